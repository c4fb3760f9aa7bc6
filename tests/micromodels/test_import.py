import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK_DJANGO = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("django is blocked in this test")
        return None
sys.meta_path.insert(0, Blocker())
import micromodels
from micromodels import replay
assert callable(micromodels.train) and callable(micromodels.prelabel)
assert callable(micromodels.suggest_initial) and callable(replay.main)
assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
print("ok")
"""


def test_micromodels_imports_without_django() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_DJANGO], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
