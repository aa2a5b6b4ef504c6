import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Pipeline

from .fakes import ScriptedGenerator, WordOverlapEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def seeds(tmp_path) -> Path:
    """A private copy of the five articles."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path, seeds) -> Settings:
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache",
                    translate_query=False, bridge_words=0)


@pytest.fixture
def make_pipeline(settings):
    def make(replies=None, reply_fn=None, **overrides):
        s = Settings(**{**settings.__dict__, **overrides})
        return Pipeline(s, embedder=WordOverlapEmbedder(), generator=ScriptedGenerator(replies, reply_fn))
    return make
