"""privacy/ knows the other apps only through what they declare (privacy.registry.hooks) and the
user model through get_user_model(): no module of privacy imports orders or shop."""
import ast
from pathlib import Path

import privacy

ROOT = Path(privacy.__file__).resolve().parent
OTHER_APPS = ("orders", "shop")
def imports_of_other_apps(root: Path = ROOT) -> set[tuple[str, str]]:
    found = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):  # function-local imports too: hiding one there changes nothing
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in OTHER_APPS:
                    found.add((path.relative_to(root).as_posix(), name))
    return found


def test_privacy_imports_no_module_of_orders_or_shop():
    assert imports_of_other_apps() == set()


def test_the_scan_sees_an_import_of_orders_even_inside_a_function(tmp_path):
    (tmp_path / "retention").mkdir()
    (tmp_path / "retention" / "probe.py").write_text("def f():\n    from orders.models import Order\n")
    (tmp_path / "fine.py").write_text("from django.contrib.auth import get_user_model\nimport shopping\n")
    assert imports_of_other_apps(tmp_path) == {("retention/probe.py", "orders.models")}
