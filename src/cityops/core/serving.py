"""What `cityops serve` and `cityops run` check before they start: the address to listen on is free."""

from __future__ import annotations

import errno
import socket


def parse_bind(bind: str) -> tuple[str, int]:
    """("host", port) of a gunicorn-style bind ("127.0.0.1:8000", ":8000", "[::1]:8000")."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{bind!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - ":8000" means every interface, as in gunicorn


def bind_problem(bind: str) -> str | None:
    """None when the address can be listened on; otherwise one line, in Chinese and English, saying what to
    change (gunicorn itself would retry five times and print a traceback-like error)."""
    try:
        host, port = parse_bind(bind)
    except ValueError:
        return (f"监听地址 {bind!r} 无效，应为 主机:端口，例如 CITYOPS_BIND=127.0.0.1:8000 / "
                f"invalid listen address {bind!r}: use HOST:PORT, e.g. CITYOPS_BIND=127.0.0.1:8000")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"端口 {port} 已被占用：请换一个端口，例如 make run PORT={port + 1} 或 "
                        f"CITYOPS_BIND={host}:{port + 1} / port {port} is already in use: choose another, e.g. "
                        f"make run PORT={port + 1} or CITYOPS_BIND={host}:{port + 1}")
            return (f"无法监听 {host}:{port}（{exc.strerror}）：请检查 CITYOPS_BIND / cannot listen on {host}:{port} "
                    f"({exc.strerror}): check CITYOPS_BIND")
    return None
