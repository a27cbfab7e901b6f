"""The intake API: one HTTP door for claims from the customer app, agents' tools and hospitals."""
