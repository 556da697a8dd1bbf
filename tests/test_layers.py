"""The house's layout holds (../shared/HOUSE.md): imports point only downward, with no
cycle (imports inside functions counted), and each kind of row has one writer.

Read from the source with `ast`, so a violation fails here before anyone reads the code:
views/, tasks -> ingest/, outbox/ -> actions, events, schedule -> reads -> rules -> models.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from inbox import schedule
from inbox.models import Event, Verb
from twelp.celery import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("inbox", "agents", "twelp")

# Lowest first; a module may import its own layer and those below, never above.
LAYERS = [
    ("models", ["inbox.models", "inbox.errors"]),
    ("rules", ["inbox.rules"]),
    (
        "reads",
        ["inbox.queries", "inbox.figures", "inbox.rollups", "inbox.live", "inbox.budgets"]
        + ["inbox.search"],
    ),
    (
        "actions",
        [
            "inbox.actions",
            "inbox.events",
            "inbox.schedule",
            "inbox.noise",
            "inbox.proposals",
            "inbox.customers",
            "inbox.brand_settings",
            "inbox.training",
            "inbox.integrations",
            "inbox.quality",
            "inbox.routing",
            "inbox.configure",
            "inbox.notifications",  # issue 21: the one writer of Notification rows
        ],
    ),
    ("flows", ["inbox.ingest", "inbox.outbox", "inbox.data"]),
    (
        "top",
        [
            *("inbox.views", "inbox.tasks", "inbox.forms", "inbox.urls", "inbox.admin"),
            "inbox.api",
            *("inbox.demo", "inbox.templatetags", "inbox.management", "inbox.apps"),
        ],
    ),
]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()
# Every file parsed once, as the module is collected: CPython 3.11's ast.parse can fail with
# "AST constructor recursion depth mismatch" when called after an earlier test in the same
# process hit a deep recursion (python/cpython#106905), so no test parses at run time.
TREES = {path: ast.parse(path.read_text()) for path in MODULES.values()}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """Project modules `path` imports, at any depth (functions too), but not the ones
    under `if TYPE_CHECKING:` (annotations only: never executed)."""
    tree = TREES[path]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names.add(child.module)
                names.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return {name for name in names if name in MODULES}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def test_no_module_imports_one_of_a_higher_layer():
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in GRAPH.items()
        if _layer(module) is not None
        for target in targets
        if _layer(target) is not None and _layer(target) > _layer(module)
    ]
    assert upward == []


def test_there_is_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            connect(node)
    assert cycles == []


def test_only_the_tasks_module_and_the_urls_sit_on_top():
    """Nothing below inbox.tasks imports it: work is scheduled by name (inbox.schedule)."""
    importers = sorted(m for m, targets in GRAPH.items() if "inbox.tasks" in targets)
    assert importers == []


def test_scheduled_task_names_are_real_tasks():
    import inbox.tasks  # noqa: F401 - registers the tasks with the app

    names = [schedule.POST_REPLY, schedule.POST_BRAND_TWEET, schedule.POLL_SOURCE]
    assert [name for name in names if name not in app.tasks] == []


def _calls(path: Path) -> list[tuple[str, ast.Call]]:
    tree = TREES[path]
    return [(ast.unparse(node.func), node) for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _strings(path: Path) -> list[str]:
    tree = TREES[path]
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_event_rows_are_created_in_one_module():
    writers = sorted(
        name
        for name, path in MODULES.items()
        if any(
            func in ("Event.objects.create", "Event.objects.bulk_create", "Event")
            for func, _ in _calls(path)
        )
        or any("INSERT INTO inbox_event" in s for s in _strings(path))
    )
    assert writers == ["inbox.events"]


def _status_writes(path: Path, choices: str) -> list[str]:
    """Assignments `x.status = <choices>.X` and `.update(status=<choices>.X)` calls."""
    tree = TREES[path]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and ast.unparse(node.value).startswith(f"{choices}.")
                ):
                    found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".update"):
            for keyword in node.keywords:
                if keyword.arg == "status" and ast.unparse(keyword.value).startswith(choices):
                    found.append(ast.unparse(node)[:80])
    return found


def test_thread_status_is_written_only_by_the_actions_module():
    writers = {
        name: writes
        for name, path in MODULES.items()
        if (writes := _status_writes(path, "ThreadStatus"))
        or any("UPDATE inbox_thread SET status" in s for s in _strings(path))
    }
    assert sorted(writers) == ["inbox.actions"]


def test_outbox_status_is_written_only_by_the_outbox():
    writers = {
        name: writes
        for name, path in MODULES.items()
        if (writes := _status_writes(path, "ReplyStatus"))
    }
    assert sorted(writers) != [] and all(name.startswith("inbox.outbox") for name in writers)


@pytest.mark.parametrize("verb", Verb.values)
def test_every_verb_fits_the_event_column(verb):
    assert len(verb) <= Event._meta.get_field("verb").max_length


def test_the_audit_filter_offers_every_verb(client, supervisor):
    client.force_login(supervisor.user)
    page = client.get("/sup/audit/").content.decode()
    offered = set(re.findall(r'<option value="([a-z_]+)"', page))
    assert set(Verb.values) <= offered


def test_every_inbox_module_has_a_layer():
    """A new module of inbox/ is placed in the house (LAYERS), so the rules above see it."""
    assert [m for m in MODULES if m.startswith("inbox.") and _layer(m) is None] == []


def test_inbox_keeps_at_most_twenty_top_level_modules():
    """HOUSE.md: new work goes into the flows' packages, not back into a flat drawer."""
    top = sorted(p.stem for p in (ROOT / "inbox").glob("*.py") if p.stem != "__init__")
    assert len(top) <= 20, top
