"""Evaluation of trained models: per-image scores, attribute breakdowns, reports, model cards."""
