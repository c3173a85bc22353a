"""Distillation: loading a frozen teacher, and training plus caching one when none is given."""

from seg.distill.cache import resolve_teacher, teacher_cache_key, teacher_run_config
from seg.distill.teacher import check_same_architecture, load_teacher

__all__ = [
    "check_same_architecture",
    "load_teacher",
    "resolve_teacher",
    "teacher_cache_key",
    "teacher_run_config",
]
