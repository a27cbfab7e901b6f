"""The adjusters' review web app over the case store."""
