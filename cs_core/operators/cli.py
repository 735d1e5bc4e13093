"""Command-line flags of the operators (and of any other setting), generated from ``cs_core.settings.FIELDS``:
the one place where a setting becomes a flag, shared by ``reconstruct`` and ``sweep``."""
import argparse

from ..settings import FIELDS, Field

IMAGING = ("fourier", "blur")  # the operators whose flags ``sweep`` takes beside its own --m


def dest(field: Field) -> str:
    """The flag's attribute on argparse's namespace (``--mask-size`` → ``mask_size``, ``--size`` → ``size``)."""
    return field.flag.lstrip("-").replace("-", "_")


def add_field(p, field: Field, **overrides):
    """The field's flag; numbers typed as the field, no default (the core's) unless overridden."""
    kwargs = dict(type=field.kind if field.kind in (int, float) else None, help=field.help or None)
    p.add_argument(field.flag, **{**kwargs, **overrides})


def operator_fields(operators) -> list[Field]:
    return [f for f in FIELDS if f.operator in operators and f.flag and f.kind is not object]


def add_arguments(p: argparse.ArgumentParser, operators=IMAGING):
    for field in operator_fields(operators):
        add_field(p, field)


def params(args, operators=IMAGING) -> dict:
    """The operators' entries of ``params``, each through its field's validator (None = the operator's default)."""
    return {field.target: field.check(getattr(args, dest(field))) for field in operator_fields(operators)}
