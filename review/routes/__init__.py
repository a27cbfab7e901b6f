"""The review app's routes, one `APIRouter` per thing served: signing in, the queue, a claim, operations.

`review.app.create_app` includes them; each route states who may use it with a `review.access` viewer.
"""
