"""Fake provider servers on real sockets, speaking the documented streams.

Each server answers POSTs with a queue of scripted responses and keeps the
requests it was sent. Bodies go out in HTTP/1.1 chunks cut at awkward byte
offsets (inside an SSE line, inside a multi-byte character), as a proxy or
a slow network would cut them; a response can also drop the connection
part-way through a chunk.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sse(events: list[tuple[str | None, dict]]) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        out.append(f"data: {json.dumps(data, ensure_ascii=False)}\n\n")
    return "".join(out).encode()


def awkward_pieces(body: bytes, sizes=(1, 7, 3, 13, 2, 29, 5)) -> list[bytes]:
    pieces, i, k = [], 0, 0
    while i < len(body):
        size = sizes[k % len(sizes)]
        pieces.append(body[i : i + size])
        i, k = i + size, k + 1
    return pieces


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/event-stream"
    headers: dict = field(default_factory=dict)
    drop_after: int | None = None  # bytes of body sent before the connection is cut mid-chunk


@dataclass
class Received:
    path: str
    headers: dict
    body: dict
    at: float = 0.0  # time.monotonic() when it arrived


class FakeServer:
    """`responder(received) -> Reply` answers when no reply is queued."""

    def __init__(self, responder=None):
        self.responder = responder
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                server.received.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw or b"{}"),
                        time.monotonic(),
                    )
                )
                if server.replies:
                    reply = server.replies.pop(0)
                elif server.responder is not None:
                    reply = server.responder(server.received[-1])
                else:
                    reply = Reply(500, b'{"error": "no reply queued"}', "application/json")
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                sent = 0
                for piece in awkward_pieces(reply.body):
                    if reply.drop_after is not None and sent + len(piece) > reply.drop_after:
                        # A chunk header promising more than ever comes, then the socket closes.
                        self.wfile.write(f"{len(piece) + 100:x}\r\n".encode() + piece)
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                    sent += len(piece)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def wait_idle(self, timeout=2.0):
        deadline = time.monotonic() + timeout
        while self.replies and time.monotonic() < deadline:
            time.sleep(0.01)


# --- Anthropic Messages API streaming (docs: "Streaming Messages") ---------------------------


def anthropic_text_and_tool(text: str, tool: dict | None = None, *, usage=None) -> bytes:
    usage = usage or {
        "input_tokens": 40,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }
    events: list[tuple[str | None, dict]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-6",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage,
                },
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
    ]
    words = text.split(" ")
    for i, word in enumerate(words):
        piece = word + (" " if i < len(words) - 1 else "")
        events.append(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    stop = "end_turn"
    if tool is not None:
        stop = "tool_use"
        arguments = json.dumps(tool["input"], ensure_ascii=False)
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {"type": "tool_use", "id": tool["id"], "name": tool["name"], "input": {}},
                },
            )
        )
        for start in range(0, len(arguments), 9):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": arguments[start : start + 9]},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 1}))
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 25},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse(events)


def anthropic_error_event(error_type: str = "overloaded_error") -> bytes:
    return sse(
        [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_02",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-6",
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 40, "output_tokens": 1},
                    },
                },
            ),
            ("error", {"type": "error", "error": {"type": error_type, "message": "Overloaded"}}),
        ]
    )


def anthropic_http_error(status: int, error_type: str, retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after else {}
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": error_type}}).encode()
    return Reply(status, body, "application/json", headers)


# --- OpenAI Chat Completions streaming (docs: "Streaming", chat.completion.chunk) ---------------


def openai_chunks(text: str, tool: dict | None = None, *, usage: bool = True) -> bytes:
    def chunk(delta, finish=None):
        return (
            None,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4o",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            },
        )

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": word + " "}) for word in text.split(" ")]
    finish = "stop"
    if tool is not None:
        finish = "tool_calls"
        arguments = json.dumps(tool["input"], ensure_ascii=False)
        events.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": tool["id"],
                            "type": "function",
                            "function": {"name": tool["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        for start in range(0, len(arguments), 9):
            events.append(
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[start : start + 9]}}]})
            )
    events.append(chunk({}, finish))
    if usage:
        events.append(
            (
                None,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-4o",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 50,
                        "completion_tokens": 20,
                        "total_tokens": 70,
                        "prompt_tokens_details": {"cached_tokens": 0},
                    },
                },
            )
        )
    return sse(events) + b"data: [DONE]\n\n"


def openai_error(status: int, message: str, error_type: str = "BadRequestError") -> Reply:
    """An error body as vLLM and llama.cpp send it (OpenAI's shape)."""
    body = json.dumps(
        {
            "object": "error",
            "error": {"message": message, "type": error_type, "code": status},
            "message": message,
            "type": error_type,
            "code": status,
        }
    ).encode()
    return Reply(status, body, "application/json")


def openai_http_error(status: int, retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after else {}
    body = json.dumps({"error": {"message": "slow down", "type": "rate_limit_exceeded"}}).encode()
    return Reply(status, body, "application/json", headers)
