"""How cdk-nag spells a CloudFormation value in a finding id, for exact acknowledgments.

cdk-nag v3 matches acknowledgments exactly (`AwsSolutions-IAM5[Resource::<spelling>]`) and spells
intrinsics its own way: `{"Ref": "AWS::Region"}` as `<AWS::Region>`, `Fn::GetAtt` as
`<LogicalId.Attr>`, a value imported from another stack as the export name CDK generates for it
(`<producer stack>:ExportsOutput...<hash>`). Deriving the spelling from the value keeps each
acknowledgment tied to the one resource it accepts, without copying generated ids into code.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from aws_cdk import CfnElement, Stack
from constructs import IConstruct


def resource_finding(scope: IConstruct, value: str) -> str:
    """The IAM5 finding of a wildcard resource in `scope`'s stack, e.g. `Resource::<B.Arn>/*`."""
    return "Resource::" + spelling(scope, value)


def spelling(scope: IConstruct, value: str) -> str:
    """The cdk-nag spelling of `value` (a string that may hold tokens) inside `scope`'s stack."""
    consumer = Stack.of(scope)
    return _render(consumer.resolve(value), consumer)


def _render(value: Any, consumer: Stack) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(p, consumer) for p in parts)
        if name in ("Ref", "Fn::GetAtt"):
            logical_id = arg if name == "Ref" else arg[0]
            producer = _owner(consumer, logical_id)
            if producer is None or producer is consumer:
                return f"<{arg}>" if name == "Ref" else f"<{arg[0]}.{arg[1]}>"
            return _export_name(producer, value)
    raise ValueError(f"cannot spell {value!r} the way cdk-nag does")


def _owner(consumer: Stack, logical_id: str) -> Stack | None:
    """The stack of the app declaring `logical_id` (None for pseudo parameters)."""
    if logical_id.startswith("AWS::"):
        return None
    for stack in (consumer, *(s for s in consumer.node.root.node.children if s is not consumer)):
        if not isinstance(stack, Stack):
            continue
        for element in stack.node.find_all():
            if isinstance(element, CfnElement) and stack.resolve(element.logical_id) == logical_id:
                return stack
    raise ValueError(f"no stack of the app declares {logical_id!r}")


def _export_name(producer: Stack, resolved: dict[str, Any]) -> str:
    """CDK's generated export name of a cross-stack reference (`makeUniqueId` of the path)."""
    components = ["Exports", "Output" + json.dumps(resolved, separators=(",", ":"))]
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    human = "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in components)
    return f"{producer.stack_name}:{human}{digest[:8].upper()}"
