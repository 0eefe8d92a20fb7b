"""Shared pytest fixtures: the Hub sandbox (`hub_sandbox`, `hub_sandbox_session`)."""

from spacectl.sandbox.testing import hub_sandbox, hub_sandbox_session

__all__ = ["hub_sandbox", "hub_sandbox_session"]
