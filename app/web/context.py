"""What every portal view needs from the request: who acts, in which tenant."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.request_context import client_ip, request_id
from app.services.context import Actor


def actor() -> Actor:
    if current_user and current_user.is_authenticated:
        return Actor(type="staff", id=current_user.id, label=current_user.email,
                     ip=client_ip(), user_agent=request.user_agent.string,
                     request_id=request_id())
    return Actor(type="anonymous", ip=client_ip(), user_agent=request.user_agent.string,
                 request_id=request_id())
