"""The package's shape: no import cycle, thin scripts, one home per job, names that do not collide."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEG = ROOT / "seg"
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
MAX_SCRIPT_LINES = 150


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the seg modules it imports, lazy imports inside functions and TYPE_CHECKING
    blocks included (the usual ways a cycle is hidden); edges into a package's own __init__ from
    inside it are re-export plumbing and left out."""
    files = {module_name(p): p for p in SEG.rglob("*.py")}
    packages = {m for m, p in files.items() if p.name == "__init__.py"}

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        base = module.split(".") if module in packages else module.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                prefix = node.module or ""
                if node.level:
                    parent = base[: len(base) - node.level + 1]
                    prefix = ".".join(parent + ([node.module] if node.module else []))
                targets |= {prefix, *(f"{prefix}.{a.name}" for a in node.names)}
        resolved = {resolve(t) for t in targets if t.split(".")[0] == "seg"}
        graph[module] = {
            r
            for r in resolved
            if r and r != module and not (r in packages and module.startswith(r + "."))
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``a -> b -> ... -> a``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_in_seg():
    graph = import_graph()
    assert len(graph) > 50  # the walk saw the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_build_layer_is_a_leaf_below_the_pipeline():
    graph = import_graph()
    high = {"seg.pipeline", "seg.distill", "seg.eval", "seg.mining", "seg.export", "seg.cli"}
    assert not {m for m in graph["seg.build"] if any(m.startswith(h) for h in high)}
    uses_pipeline = sorted(m for m, deps in graph.items() if "seg.pipeline" in deps)
    assert uses_pipeline == [], f"only train.py may import seg.pipeline, not {uses_pipeline}"


def test_scripts_are_thin_clis_over_the_installed_package():
    assert SCRIPTS
    for script in SCRIPTS:
        text = script.read_text()
        assert "sys.path.insert" not in text, f"{script.name} edits sys.path"
        assert "PROJECT_ROOT" not in text, f"{script.name} sets PROJECT_ROOT (seg.paths does)"
        lines = len(text.splitlines())
        assert lines <= MAX_SCRIPT_LINES, f"{script.name} has {lines} lines"
        assert "cli.run(main)" in text, f"{script.name} does not end through seg.cli.run"


def test_tests_import_the_package_not_script_files():
    for test in (ROOT / "tests").glob("*.py"):
        if test.name == Path(__file__).name:
            continue
        text = test.read_text()
        assert "spec_from_file_location" not in text, f"{test.name} imports a script file"


def test_project_root_is_set_in_one_place():
    setters = [
        p.relative_to(ROOT).as_posix()
        for p in [*SEG.rglob("*.py"), *SCRIPTS, ROOT / "train.py"]
        if re.search(r"environ(\.setdefault|\[)\(?\s*\"PROJECT_ROOT\"", p.read_text())
    ]
    assert setters == ["seg/paths.py"]


def test_one_frame_resizer_and_one_onnx_runner():
    """cv2.resize only in seg/resize.py (and the synthetic renderer's own drawing; networks and
    losses resize feature maps inside the graph); ONNX Runtime sessions and LiteRT interpreters
    only in seg/inference/backends.py."""
    inside = ("seg/resize.py", "seg/data/synthetic/", "seg/models/", "seg/losses/")
    for path in [*SEG.rglob("*.py"), *SCRIPTS]:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if not rel.startswith(inside):
            assert "cv2.resize" not in text, f"{rel} resizes with cv2 itself"
            assert not re.search(r"def resize_\w+\(", text), f"{rel} defines its own resizer"
        if rel != "seg/inference/backends.py":
            assert "InferenceSession(" not in text, f"{rel} opens its own ONNX Runtime session"
            assert "Interpreter(" not in text, f"{rel} opens its own LiteRT interpreter"


def test_module_names_do_not_collide():
    names = Counter(
        p.name for p in [*SEG.rglob("*.py"), *SCRIPTS, ROOT / "train.py"] if p.name != "__init__.py"
    )
    assert [n for n, c in names.items() if c > 1] == []
