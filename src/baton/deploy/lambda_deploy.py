"""Create or update a Lambda function for baton functions: role, code, version, alias, URL.

Every step reads first and changes only what differs, so re-deploying unchanged code changes
nothing (the built zip's SHA-256 is compared with the deployed CodeSha256). With `dry_run`
the same reads produce the plan and nothing is changed. Credentials and the default region
come from the standard AWS chain only (environment, shared files, SSO, instance roles);
`AWS_ENDPOINT_URL` points every client elsewhere (e.g. at moto in tests).

One module (~640 lines) because it is one reconcile loop: each step's read feeds the next step's
write (role → function → version → alias → URL → permissions) and the same reads make the plan.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from baton.aws.arns import LambdaFunctionRef
from baton.aws.clients import new_session, service_client
from baton.deploy.config import LambdaSettings
from baton.deploy.errors import DeployError
from baton.deploy.package import DIRECT_UPLOAD_LIMIT, Package
from baton.diagnostics import did_you_mean

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
MANAGED_TAG = "baton:managed"
URL_STATEMENT = "baton-function-url"
URL_INVOKE_STATEMENT = "baton-function-url-invoke"
LOGS_POLICY = "baton-lambda-logs"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
REQUIRED_PERMISSIONS = (
    "sts:GetCallerIdentity",
    ("iam:GetRole, iam:CreateRole, iam:TagRole, iam:UpdateAssumeRolePolicy, "
     "iam:GetRolePolicy, iam:PutRolePolicy, iam:PassRole"),
    ("lambda:GetFunction, lambda:CreateFunction, lambda:UpdateFunctionCode, "
     "lambda:UpdateFunctionConfiguration, lambda:PublishVersion, "
     "lambda:ListVersionsByFunction, lambda:GetFunctionConfiguration, lambda:GetAlias, "
     "lambda:CreateAlias, lambda:UpdateAlias, lambda:GetFunctionUrlConfig, "
     "lambda:CreateFunctionUrlConfig, lambda:UpdateFunctionUrlConfig, lambda:GetPolicy, "
     "lambda:AddPermission, lambda:RemovePermission"),
    "s3:PutObject (only with s3-bucket)",
)
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                  "UnauthorizedException"}
_BAD_CREDENTIALS = {"InvalidClientTokenId", "UnrecognizedClientException",
                    "SignatureDoesNotMatch", "InvalidSignatureException", "ExpiredToken",
                    "ExpiredTokenException", "AuthFailure"}
_ROLE_NOT_ASSUMABLE = "cannot be assumed by Lambda"


@dataclass(frozen=True, slots=True)
class Change:
    """One resource in the plan or in the result."""

    resource: str  # role | code | configuration | version | alias | url | permission
    name: str
    action: str  # create | update | unchanged
    detail: str = ""


@dataclass(slots=True)
class DeployResult:
    region: str
    account: str
    function_name: str
    alias: str
    changes: list[Change] = field(default_factory=list)
    function_arn: str | None = None
    version: str | None = None
    url: str | None = None
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(change.action != UNCHANGED for change in self.changes)


Report = Callable[[Change], None]


# --- session, region, credentials ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwsContext:
    session: boto3.session.Session
    region: str
    account: str
    partition: str
    caller: str

    def client(self, service: str) -> Any:
        config = Config(retries={"mode": "standard", "max_attempts": 5},
                        user_agent_extra="baton-deploy")
        return service_client(self.session, service, self.region, config)


def connect(region: str | None) -> AwsContext:
    """A session from the standard AWS chain, with a known region and working credentials."""
    try:
        session = new_session(region)
    except botocore.exceptions.ProfileNotFound as error:
        raise DeployError(f"AWS profile not found: {error}",
                          "check AWS_PROFILE and your ~/.aws/config") from None
    region = region or session.region_name
    if not region:
        raise DeployError(
            "no AWS region: none given and none in the AWS configuration",
            "pass --region, set `region` in [tool.baton.lambda], or set AWS_REGION "
            "(or a region in your AWS profile)",
        )
    partition = check_region(session, region)
    try:
        credentials = session.get_credentials()
    except botocore.exceptions.BotoCoreError as error:
        raise DeployError(f"cannot load AWS credentials: {error}") from None
    if credentials is None:
        raise DeployError(
            "no AWS credentials found (environment, shared credentials/config files, SSO, "
            "container or instance roles)",
            "configure them the standard way: `aws configure`, `aws sso login`, AWS_PROFILE, "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; baton never takes credentials as flags",
        )
    sts = service_client(session, "sts", region)
    with aws_errors("sts:GetCallerIdentity"):
        identity = sts.get_caller_identity()
    return AwsContext(session, region, identity["Account"], partition, identity["Arn"])


def check_region(session: boto3.session.Session, region: str) -> str:
    """The partition of `region`; a clear error when botocore does not know the region."""
    known: dict[str, str] = {}
    for partition in session.get_available_partitions():
        for name in session.get_available_regions("lambda", partition_name=partition):
            known[name] = partition
    if region in known:
        return known[region]
    suggestion = did_you_mean(region, known, n=3, quote="", any_case=False)
    raise DeployError(
        f"unknown AWS region {region!r} (not a region where Lambda runs).{suggestion}",
        "pass a region such as us-east-1 or eu-west-1 (a region newer than this botocore "
        "needs `uv lock --upgrade-package botocore`)",
    )


@contextmanager
def aws_errors(operation: str, subject: str = "") -> Iterator[None]:
    """Turn botocore failures into DeployErrors that say what to do."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise DeployError("no AWS credentials found",
                          "configure credentials the standard way (aws configure / sso login)"
                          ) from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise DeployError(f"cannot reach AWS for {operation}: {error}",
                          "check your network, proxy and AWS_ENDPOINT_URL settings") from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        where = f" ({subject})" if subject else ""
        if code in _BAD_CREDENTIALS:
            raise DeployError(f"AWS rejected the credentials{where}: {code}: {message}",
                              "refresh or fix your AWS credentials (expired session? wrong "
                              "profile?)") from None
        if code in _ACCESS_DENIED:
            raise DeployError(
                f"not allowed to call {operation}{where}: {message}",
                "the deploying identity needs: " + "; ".join(REQUIRED_PERMISSIONS),
            ) from None
        raise DeployError(f"{operation} failed{where}: {code}: {message}") from None


def _not_found(error: botocore.exceptions.ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in (
        "ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException", "404", "NotFound"
    )


def read_or_none(operation: str, subject: str, call: Callable[[], Any]) -> Any:
    """The result of a read, or None when the resource does not exist."""
    with aws_errors(operation, subject):
        try:
            return call()
        except botocore.exceptions.ClientError as error:
            if _not_found(error):
                return None
            raise


# --- the deployer ---------------------------------------------------------------------------


class LambdaDeployer:
    """Brings one function to the state `settings` and `package` describe."""

    def __init__(self, aws: AwsContext, settings: LambdaSettings, package: Package,
                 report: Report = lambda _: None, dry_run: bool = False,
                 sleep: Callable[[float], None] = time.sleep, role_wait: float = 60.0) -> None:
        self.aws = aws
        self.settings = settings
        self.package = package
        self.report = report
        self.dry_run = dry_run
        self.sleep = sleep
        self.role_wait = role_wait
        self.iam = aws.client("iam")
        self.lam = aws.client("lambda")
        self.result = DeployResult(aws.region, aws.account, settings.name, settings.alias,
                                   dry_run=dry_run)
        self.role_fresh = False  # created or changed in this run: IAM may not have spread yet
        self._current: dict[str, Any] | None = None
        self._current_read = False
        self._alias_target: str | None = None

    def _record(self, change: Change) -> None:
        self.result.changes.append(change)
        self.report(change)

    def deploy(self) -> DeployResult:
        current = self._current_function()
        if current is None or current.get("CodeSha256") != self.package.sha256 or (
                current.get("Architectures") or ["x86_64"]) != [self.settings.architecture]:
            check_upload_size(self.package, self.settings)  # before anything is changed
        role_arn = self._role()
        exists, code_changed, config_changed, arch_changed = self._function(role_arn)
        version = self._version(exists, code_changed or config_changed or arch_changed)
        self._alias(version)
        self._url()
        self._permissions()
        return self.result

    # --- role ---

    def _role(self) -> str:
        settings = self.settings
        if settings.role:
            return self._given_role(settings.role)
        name = f"{settings.name[:58]}-baton"
        arn = f"arn:{self.aws.partition}:iam::{self.aws.account}:role/{name}"
        logs_policy = json.dumps(self._logs_policy(), sort_keys=True)
        found = read_or_none("iam:GetRole", name, lambda: self.iam.get_role(RoleName=name))
        role = found["Role"] if found else None
        if role is None:
            self._record(Change("role", name, CREATE, "trust lambda.amazonaws.com, logs policy"))
            if not self.dry_run:
                with aws_errors("iam:CreateRole", name):
                    arn = self.iam.create_role(
                        RoleName=name,
                        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                        Description=f"Execution role of Lambda function {settings.name} "
                                    "(managed by baton deploy)",
                        Tags=[{"Key": MANAGED_TAG, "Value": "true"}],
                    )["Role"]["Arn"]
                with aws_errors("iam:PutRolePolicy", name):
                    self.iam.put_role_policy(RoleName=name, PolicyName=LOGS_POLICY,
                                             PolicyDocument=logs_policy)
                self.role_fresh = True
            return arn
        arn = role["Arn"]
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        if tags.get(MANAGED_TAG) != "true":
            raise DeployError(
                f"IAM role {name} exists and was not created by baton",
                f"pass --role {arn} to use it as it is, or pick another --name",
            )
        updates = []
        if _policy_doc(role.get("AssumeRolePolicyDocument")) != TRUST_POLICY:
            updates.append("trust policy")
        current = read_or_none("iam:GetRolePolicy", name, lambda: self.iam.get_role_policy(
            RoleName=name, PolicyName=LOGS_POLICY))
        if current is None or _policy_doc(current["PolicyDocument"]) != json.loads(logs_policy):
            updates.append("logs policy")
        self._record(Change("role", name, UPDATE if updates else UNCHANGED, ", ".join(updates)))
        if updates and not self.dry_run:
            if "trust policy" in updates:
                with aws_errors("iam:UpdateAssumeRolePolicy", name):
                    self.iam.update_assume_role_policy(
                        RoleName=name, PolicyDocument=json.dumps(TRUST_POLICY))
            if "logs policy" in updates:
                with aws_errors("iam:PutRolePolicy", name):
                    self.iam.put_role_policy(RoleName=name, PolicyName=LOGS_POLICY,
                                             PolicyDocument=logs_policy)
            self.role_fresh = True
        return arn

    def _given_role(self, role: str) -> str:
        if role.startswith("arn:"):
            arn = role
            name = role.rsplit("/", 1)[-1]
        else:
            name = role
            arn = f"arn:{self.aws.partition}:iam::{self.aws.account}:role/{role}"
        try:
            found = self.iam.get_role(RoleName=name)["Role"]
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchEntity", "NoSuchEntityException"):
                raise DeployError(
                    f"execution role {arn} does not exist",
                    "create it with a trust policy for lambda.amazonaws.com, or leave `role` "
                    "unset and baton creates and manages one",
                ) from None
            if code not in _ACCESS_DENIED:
                with aws_errors("iam:GetRole", name):
                    raise
            found = None  # may not read IAM: Lambda itself checks the role below
        if found is not None:
            arn = found["Arn"] if not role.startswith("arn:") else arn
            principals = json.dumps(_policy_doc(found.get("AssumeRolePolicyDocument")))
            if "lambda.amazonaws.com" not in principals:
                raise DeployError(
                    f"execution role {arn} does not trust lambda.amazonaws.com",
                    "add lambda.amazonaws.com to the role's trust policy (sts:AssumeRole)",
                )
        self._record(Change("role", arn, UNCHANGED, "given"))
        return arn

    def _logs_policy(self) -> dict[str, Any]:
        group = (f"arn:{self.aws.partition}:logs:{self.aws.region}:{self.aws.account}:"
                 f"log-group:/aws/lambda/{self.settings.name}")
        return {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": group},
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": f"{group}:*"},
            ],
        }

    # --- function ---

    def _current_function(self) -> dict[str, Any] | None:
        """The function's configuration ($LATEST), read once per deploy."""
        if not self._current_read:
            found = read_or_none("lambda:GetFunction", self.settings.name,
                                 lambda: self.lam.get_function(FunctionName=self.settings.name))
            self._current = found["Configuration"] if found else None
            self._current_read = True
        return self._current

    def _desired_config(self, role_arn: str) -> dict[str, Any]:
        s = self.settings
        return {
            "Runtime": s.runtime,
            "Handler": s.handler,
            "MemorySize": s.memory,
            "Timeout": s.timeout,
            "Role": role_arn,
            "Description": f"baton: StateFun functions {s.functions}",
        }

    def _function(self, role_arn: str) -> tuple[bool, bool, bool, bool]:
        """(existed, code changed, configuration changed, architecture changed)."""
        name = self.settings.name
        desired = self._desired_config(role_arn)
        current = self._current_function()
        arch = self.settings.architecture
        if current is None:
            self._record(Change("code", name, CREATE,
                                f"{self.package.megabytes}, sha256 {self.package.sha256}"))
            self._record(Change("configuration", name, CREATE, _describe(desired, arch)))
            if not self.dry_run:
                code = self._code_location()
                response = self._with_role_retry(
                    "lambda:CreateFunction",
                    lambda: self.lam.create_function(
                        FunctionName=name, Code=code, PackageType="Zip", Publish=False,
                        Architectures=[arch], Tags={MANAGED_TAG: "true"}, **desired),
                )
                self.result.function_arn = response["FunctionArn"]
                self._wait("function_active_v2")
            else:
                self.result.function_arn = LambdaFunctionRef(  # what create_function would return
                    name, region=self.aws.region, account=self.aws.account,
                    partition=self.aws.partition,
                ).unqualified
            return False, True, True, True
        if current.get("PackageType", "Zip") != "Zip":
            raise DeployError(f"Lambda function {name} is a container image function",
                              "pick another --name; baton deploys zip functions")
        self.result.function_arn = current["FunctionArn"]
        code_changed = current.get("CodeSha256") != self.package.sha256
        arch_changed = (current.get("Architectures") or ["x86_64"]) != [arch]
        diffs = [f"{k} {current.get(k)!r} → {v!r}" for k, v in desired.items()
                 if current.get(k) != v]
        if code_changed or arch_changed:
            detail = f"{self.package.megabytes}, sha256 {self.package.sha256}"
            if arch_changed:
                detail += f", architecture → {arch}"
            self._record(Change("code", name, UPDATE, detail))
        else:
            self._record(Change("code", name, UNCHANGED, f"sha256 {self.package.sha256}"))
        self._record(Change("configuration", name, UPDATE if diffs else UNCHANGED,
                            "; ".join(diffs)))
        if self.dry_run:
            return True, code_changed, bool(diffs), arch_changed
        if code_changed or arch_changed:
            code = self._code_location()
            with aws_errors("lambda:UpdateFunctionCode", name):
                self.lam.update_function_code(FunctionName=name, Architectures=[arch],
                                              Publish=False, **code)
            self._wait("function_updated_v2")
        if diffs:
            self._with_role_retry(
                "lambda:UpdateFunctionConfiguration",
                lambda: self.lam.update_function_configuration(FunctionName=name, **desired),
            )
            self._wait("function_updated_v2")
        return True, code_changed, bool(diffs), arch_changed

    def _code_location(self) -> dict[str, Any]:
        bucket = self.settings.s3_bucket
        if not bucket:
            return {"ZipFile": self.package.path.read_bytes()}
        s3 = self.aws.client("s3")
        digest = hashlib.sha256(self.package.path.read_bytes()).hexdigest()
        key = f"baton/lambda/{self.settings.name}/{digest}.zip"
        with aws_errors("s3:PutObject", f"s3://{bucket}/{key}"):
            s3.upload_file(str(self.package.path), bucket, key)
        return {"S3Bucket": bucket, "S3Key": key}

    def _with_role_retry(self, operation: str, call: Callable[[], Any]) -> Any:
        """Retry while a role this run created or changed is not yet visible to Lambda."""
        deadline = time.monotonic() + (self.role_wait if self.role_fresh else 0)
        delay = 1.0
        while True:
            try:
                return call()
            except botocore.exceptions.ClientError as error:
                message = error.response.get("Error", {}).get("Message", "")
                if _ROLE_NOT_ASSUMABLE not in message:
                    with aws_errors(operation, self.settings.name):
                        raise
                if time.monotonic() + delay > deadline:
                    raise DeployError(
                        f"Lambda cannot assume the execution role: {message}",
                        "check that the role exists, trusts lambda.amazonaws.com, and that "
                        "you may pass it (iam:PassRole); a role created seconds ago can take "
                        "a few seconds to be usable, so running again may be enough",
                    ) from None
                self.sleep(delay)
                delay = min(delay * 2, 8.0)

    def _wait(self, waiter: str, **kwargs: Any) -> None:
        with aws_errors(f"waiting ({waiter})", self.settings.name):
            try:
                self.lam.get_waiter(waiter).wait(FunctionName=self.settings.name, **kwargs)
            except botocore.exceptions.WaiterError as error:
                raise DeployError(f"Lambda function {self.settings.name} did not become "
                                  f"ready: {error}") from None

    # --- version and alias ---

    def _version(self, existed: bool, changed: bool) -> str | None:
        name, alias = self.settings.name, self.settings.alias
        target = None
        if existed:
            found = read_or_none("lambda:GetAlias", f"{name}:{alias}",
                                 lambda: self.lam.get_alias(FunctionName=name, Name=alias))
            target = found["FunctionVersion"] if found else None
        self._alias_target = target
        if existed and not changed and target is not None:
            with aws_errors("lambda:GetFunctionConfiguration", f"{name}:{target}"):
                deployed = self.lam.get_function_configuration(FunctionName=name,
                                                               Qualifier=target)
            if deployed.get("CodeSha256") == self.package.sha256 and not [
                k for k, v in self._desired_config(deployed.get("Role", "")).items()
                if k not in ("Role", "Description") and deployed.get(k) != v
            ]:
                self._record(Change("version", target, UNCHANGED))
                self.result.version = target
                return target
        if self.dry_run:
            self._record(Change("version", "(next)", CREATE, "publish"))
            return None
        with aws_errors("lambda:ListVersionsByFunction", name):
            before = {v["Version"] for page in self.lam.get_paginator(
                "list_versions_by_function").paginate(FunctionName=name)
                for v in page["Versions"]}
        with aws_errors("lambda:PublishVersion", name):
            published = self.lam.publish_version(
                FunctionName=name, CodeSha256=self.package.sha256,
                Description=f"baton deploy sha256 {self.package.sha256}")
        version = published["Version"]
        if published.get("State") == "Pending":
            self._wait("published_version_active", Qualifier=version)
        self._record(Change("version", version, UNCHANGED if version in before else CREATE))
        self.result.version = version
        return version

    def _alias(self, version: str | None) -> None:
        name, alias = self.settings.name, self.settings.alias
        target = self._alias_target
        if target is None:
            self._record(Change("alias", alias, CREATE, f"→ {version or '(new version)'}"))
            if not self.dry_run:
                with aws_errors("lambda:CreateAlias", f"{name}:{alias}"):
                    self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version,
                                          Description="managed by baton deploy")
        elif version is None or target != version:
            self._record(Change("alias", alias, UPDATE,
                                f"{target} → {version or '(new version)'}"))
            if not self.dry_run:
                with aws_errors("lambda:UpdateAlias", f"{name}:{alias}"):
                    self.lam.update_alias(FunctionName=name, Name=alias, FunctionVersion=version)
        else:
            self._record(Change("alias", alias, UNCHANGED, f"→ {version}"))

    # --- Function URL and its permissions ---

    def _url(self) -> None:
        name, alias, auth = self.settings.name, self.settings.alias, self.settings.auth
        current = None
        if self._alias_target is not None:
            current = read_or_none(
                "lambda:GetFunctionUrlConfig", f"{name}:{alias}",
                lambda: self.lam.get_function_url_config(FunctionName=name, Qualifier=alias))
        if current is None:
            self._record(Change("url", f"{name}:{alias}", CREATE, f"auth {auth}"))
            if not self.dry_run:
                with aws_errors("lambda:CreateFunctionUrlConfig", f"{name}:{alias}"):
                    current = self.lam.create_function_url_config(
                        FunctionName=name, Qualifier=alias, AuthType=auth, InvokeMode="BUFFERED")
        elif current.get("AuthType") != auth:
            self._record(Change("url", f"{name}:{alias}", UPDATE,
                                f"auth {current.get('AuthType')} → {auth}, "
                                f"{current['FunctionUrl']}"))
            if not self.dry_run:
                with aws_errors("lambda:UpdateFunctionUrlConfig", f"{name}:{alias}"):
                    current = self.lam.update_function_url_config(
                        FunctionName=name, Qualifier=alias, AuthType=auth)
        else:
            self._record(Change("url", f"{name}:{alias}", UNCHANGED,
                                f"auth {auth}, {current['FunctionUrl']}"))
        if current is not None:
            self.result.url = current["FunctionUrl"]

    def _desired_statements(self) -> dict[str, dict[str, Any]]:
        principal = "*" if self.settings.auth == "NONE" else self.aws.account
        return {
            URL_STATEMENT: {"Action": "lambda:InvokeFunctionUrl", "Principal": principal,
                            "FunctionUrlAuthType": self.settings.auth},
            URL_INVOKE_STATEMENT: {"Action": "lambda:InvokeFunction", "Principal": principal,
                                   "InvokedViaFunctionUrl": True},
        }

    def _permissions(self) -> None:
        name, alias = self.settings.name, self.settings.alias
        statements: dict[str, dict[str, Any]] = {}
        if self._alias_target is not None:
            policy = read_or_none("lambda:GetPolicy", f"{name}:{alias}",
                                  lambda: self.lam.get_policy(FunctionName=name, Qualifier=alias))
            for statement in json.loads(policy["Policy"]).get("Statement", []) if policy else []:
                if "Sid" in statement:
                    statements[statement["Sid"]] = statement
        for sid, desired in self._desired_statements().items():
            who = "anyone" if desired["Principal"] == "*" else f"account {desired['Principal']}"
            detail = f"{desired['Action']} for {who}"
            current = statements.get(sid)
            if current is not None and _statement_matches(current, desired):
                self._record(Change("permission", sid, UNCHANGED, detail))
                continue
            self._record(Change("permission", sid, CREATE if current is None else UPDATE, detail))
            if self.dry_run:
                continue
            if current is not None:
                with aws_errors("lambda:RemovePermission", f"{name}:{alias} {sid}"):
                    self.lam.remove_permission(FunctionName=name, Qualifier=alias,
                                               StatementId=sid)
            with aws_errors("lambda:AddPermission", f"{name}:{alias} {sid}"):
                self.lam.add_permission(FunctionName=name, Qualifier=alias, StatementId=sid,
                                        **desired)


def check_upload_size(package: Package, settings: LambdaSettings) -> None:
    """Lambda takes at most 50 MB zipped in the API call itself; beyond, the zip goes via S3."""
    if package.size > DIRECT_UPLOAD_LIMIT and not settings.s3_bucket:
        raise DeployError(
            f"the zip is {package.megabytes}, over Lambda's 50 MB limit for a direct upload",
            "upload it through S3 with --s3-bucket BUCKET (or `s3-bucket` in "
            "[tool.baton.lambda]), or trim dependencies and data files",
        )


def _policy_doc(document: Any) -> Any:
    if isinstance(document, str):
        from urllib.parse import unquote

        text = document if document.lstrip().startswith("{") else unquote(document)
        return json.loads(text)
    return document


def _normal_principal(principal: Any) -> str:
    if isinstance(principal, dict):
        principal = principal.get("AWS") or principal.get("Service") or json.dumps(principal)
    text = str(principal)
    if text.startswith("arn:") and text.endswith(":root"):
        return text.split(":")[4]
    return text


def _statement_matches(statement: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Whether a policy statement (AWS's rendering, or moto's raw one) grants `desired`."""
    if statement.get("Effect", "Allow") != "Allow":
        return False
    if statement.get("Action") != desired["Action"]:
        return False
    if _normal_principal(statement.get("Principal")) != desired["Principal"]:
        return False
    conditions = json.dumps(statement.get("Condition", {}))
    if "FunctionUrlAuthType" in desired:
        auth = statement.get("FunctionUrlAuthType")
        if auth != desired["FunctionUrlAuthType"] and f'"{desired["FunctionUrlAuthType"]}"' \
                not in conditions:
            return False
    if desired.get("InvokedViaFunctionUrl"):
        flag = statement.get("InvokedViaFunctionUrl")
        if flag not in (True, "true") and "InvokedViaFunctionUrl" not in conditions:
            return False
    return True


def _describe(config: dict[str, Any], architecture: str) -> str:
    return (f"{config['Runtime']} {architecture}, {config['MemorySize']} MB, "
            f"{config['Timeout']} s, handler {config['Handler']}")
