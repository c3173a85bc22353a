"""Distillation teachers: loading a frozen one from a checkpoint, and training plus caching one
when none is given."""

from seg.distill.checkpoint import check_same_architecture, load_teacher
from seg.distill.teacher_cache import (
    TeacherInfo,
    TrainTeacher,
    resolve_teacher,
    teacher_cache_key,
    teacher_run_config,
)

__all__ = [
    "TeacherInfo",
    "TrainTeacher",
    "check_same_architecture",
    "load_teacher",
    "resolve_teacher",
    "teacher_cache_key",
    "teacher_run_config",
]
