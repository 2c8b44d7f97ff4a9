"""``ivr users add|passwd|list``: the people who sign in to the browser pages, in the store of
``IVR_DB_URL`` (the controller's database). ``register(subparsers)`` adds them to the ``ivr`` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.settings import Settings, SettingsError
from ivr.store import CallStore, UserExistsError
from ivr.web.policy import ROLES
from ivr.web.users import UserAdmin, UserInputError, change_password, create_user, public_user

StoreFactory = Callable[[], CallStore]


def _store() -> CallStore:
    return CallStore(Settings.from_env().db_url)


async def _with_store(factory: StoreFactory, work: Callable[[UserAdmin], Awaitable[int]]) -> int:
    store = factory()
    await store.open()
    try:
        return await work(store)
    finally:
        await store.close()


def _read_password(args: argparse.Namespace, *, prompt: bool) -> str | None:
    """The password from stdin (first line), a prompt, or ``None`` (generate one)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if prompt:
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise UserInputError("the passwords differ", "password")
        return first
    return None


def cmd_add(args: argparse.Namespace, factory: StoreFactory = _store) -> int:
    async def work(store: UserAdmin) -> int:
        password = _read_password(args, prompt=False)
        user, generated = await create_user(store, args.name, args.role, args.agent, password)
        print(f"added {user.name} ({user.role}{', agent ' + user.agent_id if user.agent_id else ''})")
        if generated is not None:
            print(f"password: {generated}  (shown once)")
        return 0

    return _run(factory, work)


def cmd_passwd(args: argparse.Namespace, factory: StoreFactory = _store) -> int:
    async def work(store: UserAdmin) -> int:
        if await store.get_user(args.name) is None:
            print(f"error: no user {args.name!r}", file=sys.stderr)
            return 1
        password = _read_password(args, prompt=not args.generate)
        _, generated = await change_password(store, args.name, password)
        print(f"password of {args.name} changed; their sessions are ended")
        if generated is not None:
            print(f"password: {generated}  (shown once)")
        return 0

    return _run(factory, work)


def cmd_list(args: argparse.Namespace, factory: StoreFactory = _store) -> int:
    async def work(store: UserAdmin) -> int:
        rows = [public_user(u) for u in await store.list_users()]
        print(f"{'NAME':<20} {'ROLE':<11} {'AGENT':<12} {'STATE':<9} PASSWORD CHANGED")
        for r in rows:
            state = "disabled" if r["disabled"] else "active"
            agent = r["agent_id"] or "-"
            print(f"{r['name']:<20} {r['role']:<11} {agent:<12} {state:<9} {r['password_changed_at']}")
        return 0

    return _run(factory, work)


def _run(factory: StoreFactory, work: Callable[[UserAdmin], Awaitable[int]]) -> int:
    try:
        return asyncio.run(_with_store(factory, work))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except UserExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="people who sign in to the browser pages")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = users_sub.add_parser("add", help="add a user (the password is generated unless given)")
    add.add_argument("name", help="user name: a-z, 0-9, '_', '.', '-'")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--agent", metavar="ID", help="the ACD agent id of an agent user (default: NAME)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_add)

    passwd = users_sub.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("name")
    how = passwd.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--generate", action="store_true", help="generate one and print it once")
    passwd.set_defaults(func=cmd_passwd)

    list_ = users_sub.add_parser("list", help="list users (never their passwords)")
    list_.set_defaults(func=cmd_list)
