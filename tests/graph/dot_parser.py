"""A small DOT reader for the tests: enough of the language to check `to_dot` structurally.

Reads `digraph NAME { ... }` made of `graph/node/edge [attrs]` defaults, node statements
`ID [attrs]` and edge statements `ID(:port)? -> ID(:port)? [attrs]`, separated by newlines or
`;`. Quoted strings are unescaped (`\\"` -> `"`, `\\\\` -> `\\`, `\\n` -> newline).
"""
import re
from typing import NamedTuple

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<id>[A-Za-z0-9_.#\-]+)'
                    r'|(?P<punct>[\[\]=,:;{}]))', re.S)


class Edge(NamedTuple):
    tail: str
    tail_port: str
    head: str
    head_port: str
    attrs: dict


class Dot(NamedTuple):
    defaults: dict
    nodes: dict  # id -> attrs, in order
    edges: list


def _unquote(text):
    out, i = [], 1
    while i < len(text) - 1:
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) - 1:
            nxt = text[i + 1]
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokens(text):
    pos, tokens = 0, []
    while True:
        match = _TOKEN.match(text, pos)
        if not match:
            if text[pos:].strip():
                raise ValueError(f"cannot tokenise DOT at: {text[pos:pos + 40]!r}")
            return tokens
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append((kind, _unquote(value) if kind == "str" else value, value))
        pos = match.end()


def parse_dot(text):
    tokens = _tokens(text)
    assert tokens[0][1] == "digraph", tokens[:3]
    i = 2 if tokens[1][1] != "{" else 1
    assert tokens[i][1] == "{"
    i += 1
    defaults, nodes, edges = {}, {}, []

    def attrs(i):
        result = {}
        if i < len(tokens) and tokens[i][1] == "[" and tokens[i][0] == "punct":
            i += 1
            while tokens[i][1] != "]":
                key = tokens[i][1]
                assert tokens[i + 1][1] == "=", tokens[i:i + 3]
                result[key] = tokens[i + 2][1]
                if key == "label" and tokens[i + 2][0] == "str":
                    result["_raw_label"] = tokens[i + 2][2][1:-1]
                i += 3
                if tokens[i][1] == ",":
                    i += 1
            i += 1
        return result, i

    def endpoint(i):
        name, port = tokens[i][1], ""
        i += 1
        if tokens[i][1] == ":" and tokens[i][0] == "punct":
            port = tokens[i + 1][1]
            i += 2
            if tokens[i][1] == ":" and tokens[i][0] == "punct":  # compass point: ignored
                i += 2
        return name, port, i

    while not (tokens[i][0] == "punct" and tokens[i][1] == "}"):
        if tokens[i][1] == ";":
            i += 1
            continue
        if tokens[i][0] == "id" and tokens[i][1] in ("graph", "node", "edge"):
            defaults[tokens[i][1]], i = attrs(i + 1)
            continue
        tail, tail_port, i = endpoint(i)
        if tokens[i][0] == "arrow":
            head, head_port, i = endpoint(i + 1)
            found, i = attrs(i)
            edges.append(Edge(tail, tail_port, head, head_port, found))
        else:
            found, i = attrs(i)
            nodes[tail] = found
    return Dot(defaults, nodes, edges)


def record_fields(raw_label):
    """Field texts of a record label as written in the DOT text (`attrs["_raw_label"]`),
    e.g. `<o0> a|<o1> b`: nesting braces dropped, `\\n` a newline, other `\\X` the char X."""
    fields, current, i = [], [], 0
    label = raw_label
    while i < len(label):
        ch = label[i]
        if ch == "\\" and i + 1 < len(label):
            current.append("\n" if label[i + 1] == "n" else label[i + 1])
            i += 2
            continue
        if ch in "{}|":
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    fields.append("".join(current))
    cleaned = [re.sub(r"^\s*<[^>]*>\s*", "", f).strip() for f in fields]
    return [f for f in cleaned if f]
