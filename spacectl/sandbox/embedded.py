"""The sandbox behind `spacectl ... --sandbox`: in-process, persistent, owning the manifest's
namespaces."""

from __future__ import annotations

from pathlib import Path

from spacectl.sandbox.config import SandboxConfig
from spacectl.sandbox.records import new_token
from spacectl.sandbox.server import RunningSandbox, start_in_thread
from spacectl.sandbox.store import open_store


def start_embedded_sandbox(data_dir: Path, owners: set[str]) -> RunningSandbox:
    """Start a sandbox persisted in `data_dir` whose first user can write to every namespace in
    `owners`. Large files go through Xet storage or LFS, as the client chooses.

    The user is one already stored there if it is among `owners`, else the first owner by name;
    every other owner becomes an organisation with that user as its member. State (and the
    user's token) survives between runs.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    # The folder sits in the user's checkout and holds the secret values apply sent: keep it out
    # of git whatever the repository's own .gitignore says.
    (data_dir / ".gitignore").write_text("# spacectl --sandbox state; never commit it\n*\n")
    store = open_store(data_dir)
    with store.transaction() as st:
        users = sorted(name for name in owners if name in st.users)
        user = users[0] if users else min(owners, default="user")
        if user not in st.users or not any(
            t.user == user and t.role == "write" for t in st.tokens.values()
        ):
            st.add_user(user, new_token(), "write")
        for name in sorted(owners - {user}):
            if name not in st.users:
                st.add_org(name, [user])
    running = start_in_thread(SandboxConfig(data=data_dir, build_seconds=2.0))
    token = next(
        tok
        for tok, t in running.sandbox.store.tokens.items()
        if t.user == user and t.role == "write"
    )
    running.users = {user: token, **running.users}
    return running
