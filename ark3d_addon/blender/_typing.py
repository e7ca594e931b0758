"""Names for annotations that fake-bpy-module types precisely and Blender does not define.

Under mypy they are the stubs' literal types (so a misspelt icon or operator result is an
error); at run time they are plain ``str`` sets, since ``bpy.stub_internal`` exists only in
the stubs.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import IconItems, OperatorReturnItems

    Icon = IconItems
    OperatorResult = set[OperatorReturnItems]
else:
    Icon = str
    OperatorResult = set[str]
