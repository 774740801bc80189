"""The layout's one rule: imports go one way, and never in a circle.

Where a message enters (consumers.py, usersocket.py, api/) calls services/,
which stores through actions.py and publishes through broadcast.py; the
realtime/ classes sit between the hub and the sockets. A lower layer never
imports a higher one (it defines a Protocol instead, as broadcast.Subscriber
does), and no two modules import each other, not even under TYPE_CHECKING.
"""

import ast
from pathlib import Path

CHAT = Path(__file__).resolve().parent.parent

# Entry points: what the world talks to. Nothing below may import them.
ENTRIES = ("chat.consumers", "chat.usersocket", "chat.api", "chat.views", "chat.files")
# module prefix -> prefixes it must not import
FORBIDDEN = {
    "chat.services": ENTRIES + ("chat.realtime",),
    "chat.realtime": ENTRIES,
    "chat.actions": ENTRIES + ("chat.services", "chat.realtime", "chat.broadcast"),
    "chat.access": ENTRIES + ("chat.services", "chat.realtime", "chat.broadcast"),
    "chat.models": ENTRIES + ("chat.services", "chat.realtime", "chat.actions"),
    "chat.broadcast": ENTRIES + ("chat.services", "chat.realtime"),
}


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


def test_no_import_circles():
    """No two chat modules import each other, directly or round about."""
    assert cycles(import_graph()) == []


def test_a_circle_is_found():
    """The check itself: a made-up circle is reported."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_never_import_higher_ones():
    graph = import_graph()
    wrong = [
        (module, target)
        for module, targets in graph.items()
        for prefix, banned in FORBIDDEN.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
        if any(target == b or target.startswith(b + ".") for b in banned)
    ]
    assert wrong == []
