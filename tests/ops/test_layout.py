"""The house's layout: the project's modules import each other without a loop (module-level imports; an import
inside a function is a loop put off, and counts too), and every import goes down the floors, never up:
pipeline (knows no Django) < the settings and core (files, the desk's rules, the pipeline in force) < presets
< jobs < previews < the project's entry points (urls, asgi, the server)."""
import ast
from pathlib import Path

from django.conf import settings

PACKAGES = ("jobs", "pipeline", "presets", "previews", "mediaengine", "core")
FLOORS = {"pipeline": 0, "mediaengine.env": 1, "mediaengine.settings": 1, "core": 1, "presets": 2, "jobs": 3,
          "previews": 4, "mediaengine": 5}


def floor_of(module: str) -> int:
    """The floor of the longest prefix FLOORS names (mediaengine.settings.dev: a setting; mediaengine.urls: top)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in FLOORS:
            return FLOORS[".".join(parts[:end])]
    raise AssertionError(f"{module} is on no floor: add its package to FLOORS")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (settings.BASE_DIR / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(settings.BASE_DIR).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name in modules}


def test_no_module_imports_itself_round_a_loop():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ re-exporting its own modules is not a loop through the package's users.
    graph = {name: {d for d in deps if not name.startswith(d + ".")} for name, deps in graph.items()}
    loops, state, trail = [], {}, []

    def visit(name):
        state[name] = "open"
        trail.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == "open":
                loops.append(" -> ".join(trail[trail.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        trail.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert loops == []


def test_every_import_goes_down_the_floors():
    modules = _modules()
    upward = sorted(f"{name} (floor {floor_of(name)}) imports {dep} (floor {floor_of(dep)})"
                    for name, path in modules.items() for dep in _imports(path, modules)
                    if floor_of(dep) > floor_of(name))
    assert upward == []
