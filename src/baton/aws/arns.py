"""Lambda function references: a name, `name:qualifier`, a partial ARN or a full ARN.

One parser for every place that names a Lambda function (module.yaml endpoints, workflow Task
resources, the Lambda bridge, the direct-invoke transport), so they cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"  # the Step Functions Lambda integration

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
MAX_NAME_LENGTH = 64
QUALIFIER = re.compile(r"\$LATEST|[A-Za-z0-9_-]{1,128}")
_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[^:]*):(?P<account>[^:]*)"
    r":function:(?P<rest>.*)"
)
_PARTIAL_ARN = re.compile(r"(?P<account>[^:]*):function:(?P<rest>.*)")
_ACCOUNT = re.compile(r"\d{12}")


# Which part of the text is wrong; `part` is that part as written.
Problem = Literal["arn", "region", "account", "name", "name-length", "qualifier"]


class NotALambdaFunction(ValueError):
    """The text does not name a Lambda function; the message says why.

    `problem` and `part` say the same for callers that word their own message (the module.yaml
    loader names the field and the template it came from).
    """

    def __init__(self, message: str, problem: Problem, part: str) -> None:
        super().__init__(message)
        self.problem: Problem = problem
        self.part = part

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.problem, self.part))


@dataclass(frozen=True, slots=True)
class LambdaFunctionRef:
    """A Lambda function as written: `name` always, the rest when the text carried them."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str = "aws"

    @property
    def is_arn(self) -> bool:
        return self.region is not None

    @property
    def unqualified(self) -> str:
        """The function as the Invoke API's `FunctionName` takes it, without the qualifier."""
        if self.region is not None:
            return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.name}"
        if self.account is not None:
            return f"{self.account}:function:{self.name}"
        return self.name


def parse_function(text: str, *, check_name_length: bool = True) -> LambdaFunctionRef:
    """Parse a Lambda function reference, or raise NotALambdaFunction saying what is wrong.

    `check_name_length=False` skips the 64-character limit, for a name that is a template whose
    final length is not known yet (module.yaml's `functionName: shop-{function.name}`).
    """
    region = account = None
    partition = "aws"
    rest = text
    if (arn := _ARN.fullmatch(text)) is not None:
        partition, region, account, rest = (
            arn["partition"], arn["region"], arn["account"], arn["rest"]
        )
        if not REGION.fullmatch(region):
            raise NotALambdaFunction(
                f"{text!r} is an ARN with the region {region!r}, which is not an AWS region "
                "such as us-east-1",
                "region", region,
            )
    elif text.startswith("arn:"):
        raise NotALambdaFunction(
            f"{text!r} is not a Lambda function ARN; write "
            "arn:aws:lambda:<region>:<account>:function:<name>[:<alias>], or just the name",
            "arn", text,
        )
    elif (partial := _PARTIAL_ARN.fullmatch(text)) is not None:
        account, rest = partial["account"], partial["rest"]
    if account is not None and not _ACCOUNT.fullmatch(account):
        raise NotALambdaFunction(
            f"{text!r} has the account {account!r}; an AWS account id is 12 digits",
            "account", account,
        )
    name, colon, qualifier = rest.partition(":")
    invalid_name = (
        f"{text!r} is not a valid Lambda function name: names use letters, digits, `-` and "
        f"`_` (at most {MAX_NAME_LENGTH}), optionally followed by `:alias`"
    )
    if not _NAME_CHARACTERS.fullmatch(name) or ":" in qualifier or (colon and not qualifier):
        raise NotALambdaFunction(invalid_name, "name", name)
    if check_name_length and len(name) > MAX_NAME_LENGTH:
        raise NotALambdaFunction(invalid_name, "name-length", name)
    if qualifier and not QUALIFIER.fullmatch(qualifier):
        raise NotALambdaFunction(
            f"{text!r} has the qualifier {qualifier!r}, which is not a version or alias",
            "qualifier", qualifier,
        )
    return LambdaFunctionRef(name, qualifier or None, region, account, partition)


def is_lambda_function(text: str) -> bool:
    try:
        parse_function(text)
    except NotALambdaFunction:
        return False
    return True


def region_of(text: str) -> str | None:
    """The region of a function ARN, else None (names and partial ARNs carry none).

    Only the ARN's prefix is read, so an endpoint's `functionName` template such as
    `arn:aws:lambda:eu-west-1:123456789012:function:fn-{function.name}` has a region too.
    """
    arn = _ARN.fullmatch(text)
    if arn is None or not REGION.fullmatch(arn["region"]) or not _ACCOUNT.fullmatch(arn["account"]):
        return None
    return arn["region"]
