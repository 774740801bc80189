"""The layout's one rule: imports go one way, and never in a circle.

    chat/ws/  chat/http/     the doors: sockets, HTTP
        -> chat/services/    what a user can do (post, edit, join, moderate)
        -> chat/realtime/    fan-out: the hub, streams, shared state, layers
        -> chat/store/       the event log: seq, batching, reads, caches
        -> chat/protocol/    the wire: codes, parsing, frames, JSON Schema
        -> chat/domain/      the rules: access, room names

A layer imports only the layers below it; the two doors do not import each
other. Where a lower layer must call up, it defines a Protocol (the hub's
`Subscriber`, the stream's `StreamOwner`). Beside the layers, at chat/:
leaves every layer may import (models, metrics, logfmt, version, loops) and
which import no layer; and the wiring (apps, admin, signals,
context_processors, management commands), which may import any layer and
which no layer imports. No two modules import each other, not even under
TYPE_CHECKING.
"""

import ast
from pathlib import Path

CHAT = Path(__file__).resolve().parent.parent

# Top to bottom. Each layer may import only the layers after it.
LAYERS = (
    ("chat.ws", "chat.http"),
    ("chat.services",),
    ("chat.realtime",),
    ("chat.store",),
    ("chat.protocol",),
    ("chat.domain",),
)
# At chat/ itself: imported by anyone, importing no layer.
LEAVES = ("chat.models", "chat.metrics", "chat.logfmt", "chat.version", "chat.loops")
# At chat/ itself: Django's entry points into the app, importing any layer.
WIRING = (
    "chat",
    "chat.apps",
    "chat.admin",
    "chat.signals",
    "chat.context_processors",
    "chat.management",
)
ALL_LAYERS = tuple(p for row in LAYERS for p in row)


def _forbidden() -> dict[str, tuple[str, ...]]:
    """Package -> the prefixes it must not import."""
    table: dict[str, tuple[str, ...]] = {}
    for depth, row in enumerate(LAYERS):
        above = tuple(p for higher in LAYERS[:depth] for p in higher)
        for package in row:
            siblings = tuple(p for p in row if p != package)
            table[package] = above + siblings + WIRING[1:]
    for leaf in LEAVES:
        table[leaf] = ALL_LAYERS + WIRING[1:]
    return table


FORBIDDEN = _forbidden()


def _modules() -> dict[str, Path]:
    found = {}
    for path in CHAT.rglob("*.py"):
        parts = path.relative_to(CHAT.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts).removesuffix(".__init__")
        found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the chat modules it imports at module level (including
    `if TYPE_CHECKING:` blocks; imports inside functions are left out)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        nodes = list(tree.body)
        for node in tree.body:
            if isinstance(node, ast.If):
                nodes += node.body
        for node in nodes:
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[
                        : len(package.split(".")) - node.level + 1
                    ]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [module] + [f"{module}.{a.name}" for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in graph and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def wrong_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(module, target) pairs where a module imports what its layer may not."""
    return sorted(
        (module, target)
        for module, targets in graph.items()
        for prefix, banned in FORBIDDEN.items()
        if _under(module, prefix)
        for target in targets
        if any(_under(target, b) for b in banned)
    )


def test_no_import_circles():
    """No two chat modules import each other, directly or round about."""
    assert cycles(import_graph()) == []


def test_a_circle_is_found():
    """The check itself: a made-up circle is reported."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_never_import_higher_ones():
    assert wrong_imports(import_graph()) == []


def test_an_upward_import_is_found():
    """The check itself: the store importing the hub, a door importing the
    other door, and a leaf importing a layer are each reported."""
    graph = {
        "chat.store.actions": {"chat.realtime.hub", "chat.protocol.v1"},
        "chat.http.pages": {"chat.ws.v1", "chat.domain.access"},
        "chat.metrics": {"chat.store.actions"},
        "chat.domain.access": {"chat.models"},
    }
    assert wrong_imports(graph) == [
        ("chat.http.pages", "chat.ws.v1"),
        ("chat.metrics", "chat.store.actions"),
        ("chat.store.actions", "chat.realtime.hub"),
    ]


def test_every_module_has_a_layer():
    """A new module goes into a layer (or is named a leaf or wiring here):
    the tree, not a list in a README, says where it belongs."""
    homeless = [
        name
        for name in _modules()
        if not any(_under(name, p) for p in ALL_LAYERS + LEAVES + WIRING[1:])
        and name != "chat"
    ]
    assert homeless == []


def test_every_layer_says_its_place():
    """Each layer's package docstring names what it may import."""
    for package in ALL_LAYERS:
        path = CHAT.parent.joinpath(*package.split("."), "__init__.py")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "May import" in doc, package
