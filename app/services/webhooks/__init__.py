"""Webhooks: endpoints (endpoints.py), the outbox written with each change
(outbox.py, events.py), and its delivery (delivery.py, urls.py)."""
