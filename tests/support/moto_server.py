"""moto server for the AWS tests, with the few gaps that matter to elasticache-perf closed.

Started by tests/common_aws/mod.rs as `.venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p PORT`
(same arguments as `moto_server`). moto 5.2.5 differs from AWS in ways the product must not
bend to (shared docs/moto-notes.md); this launcher patches moto in-process so that the product's
AWS-correct code can be tested end to end. Each patch states the gap it closes:

1. ElastiCache replication groups: moto creates them `available` at once and, once deleted,
   leaves them `deleting` forever (so a waiter for "deleted" never ends and the group shows up
   in every leak scan). Here a new group reads `creating` on its first describe and `available`
   afterwards, and a deleted group reads `deleting` once and is then gone
   (ReplicationGroupNotFoundFault), as on AWS. The environment variables
   `ECP_MOTO_RG_CREATING_SECONDS` and `ECP_MOTO_RG_DELETING_SECONDS` (default 0) make those
   states last at least that long, so that a test can interrupt the tool while it waits on them.
2. DeleteCacheSubnetGroup is not implemented in moto (HTTP 500). Here it deletes the group,
   refuses while a replication group still uses it (CacheSubnetGroupInUse, as AWS does), and
   answers CacheSubnetGroupNotFoundFault for an unknown name.
3. DescribeCacheEngineVersions is not implemented in moto. Here it answers, for redis and
   valkey, the versions ElastiCache offers with their parameter group families (`redis7`,
   `valkey8`, ...), the default version marked as such.
4. Cache parameter groups are not implemented in moto. Here CreateCacheParameterGroup (family
   from DescribeCacheEngineVersions' list; CacheParameterGroupAlreadyExists for a taken name;
   tags), DescribeCacheParameterGroups, ModifyCacheParameterGroup and DeleteCacheParameterGroup
   behave as on AWS: an unknown name answers CacheParameterGroupNotFound, the `default.*` groups
   cannot be modified or deleted, and a group that a replication group still uses (also one
   being deleted) cannot be deleted (InvalidCacheParameterGroupState). CreateReplicationGroup
   naming a group that does not exist answers CacheParameterGroupNotFound, and one whose family
   is not the engine version's answers InvalidParameterCombination. The groups are in the
   tagging APIs (ListTagsForResource, the Resource Groups Tagging API) like AWS's.
5. DescribeCacheClusters does not know a replication group's member clusters in moto. Here a
   member answers with its group's node type, engine, engine version (the engine's default
   version when the group was created without one) and cache parameter group, as on AWS.
6. Data tiering: moto accepts any node type without DataTieringEnabled. Here
   CreateReplicationGroup refuses (InvalidParameterCombination) a data-tiering node type
   (`cache.r6gd.*`) without DataTieringEnabled=true, and DataTieringEnabled on any other node
   type, as the API reference says ("must be set to true when using r6gd nodes").

## Strict switches: what AWS documents and moto does not do

Each behaviour below is off unless its environment variable is set; `ECP_MOTO_STRICT=1` turns
every one on with the value given in brackets (a variable set explicitly wins). They are the
behaviours listed in shared docs/real-aws-behaviours.md, reproduced so that the product's
handling of each can be tested, and the happy path run with all of them on.

- `ECP_MOTO_EC2_LAG_SECONDS` [2]: EC2 is eventually consistent. AuthorizeSecurityGroupIngress on a
  security group created less than this long ago answers `InvalidGroup.NotFound`.
- `ECP_MOTO_IAM_LAG_SECONDS` [3]: IAM propagation. RegisterTaskDefinition naming an execution role
  created less than this long ago answers `ClientException: Role is not valid`; CreateSchedule
  with such a role answers Scheduler's `ValidationException` about its execution role.
- `ECP_MOTO_CAPACITY_FAILURES` [2]: the first this-many RunTask calls (Fargate) start only half of
  their tasks (rounded down: none of one) and list the rest in `failures` with Fargate's
  "Capacity is unavailable at this time..." reason.
- `ECP_MOTO_CLUSTER_GONE` [1]: after DeleteCluster, ECS answers `ClusterNotFoundException` for
  the cluster's tasks (DescribeTasks, ListTasks, StopTask, RunTask), as AWS does for an INACTIVE
  cluster; DescribeClusters still shows it INACTIVE.
- `ECP_MOTO_INSIGHTS_RECREATE` [1]: Container Insights. The first RunTask in a cluster with
  containerInsights enabled creates `/aws/ecs/containerinsights/<cluster>/performance`
  (untagged, as the service does), and DeleteCluster of a cluster that ran tasks creates it again
  when it is gone: late performance events arrive after it was deleted.
- `ECP_MOTO_LOG_LAG_SECONDS` [3]: CloudWatch Logs is eventually visible. GetLogEvents does not
  show events ingested less than this long ago.
- `ECP_MOTO_S3_REGION_REDIRECT` [1]: S3 answers a request signed for another region than the
  bucket's with `301 PermanentRedirect` and the bucket's region in `x-amz-bucket-region`.
- `ECP_MOTO_SLOW_STOP_TASKS` [0, not part of strict]: the first this-many tasks the tool stops
  (StopTask with the tool's reason) stay `STOPPING` for good, as a Fargate task whose network
  interface is slow to detach.
- `ECP_MOTO_CLUSTER_MODE_STRICT` [1]: CreateReplicationGroup with more than one node group but no
  cluster-enabled parameter group (`default.<family>.cluster.on`) answers
  `InvalidParameterCombination`, as the cluster-disabled default group cannot hold shards.
"""

import os
import sys
import threading
import time

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticache import models as ec_models
from moto.elasticache import responses as ec_responses
from moto.elasticache.exceptions import (
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    ReplicationGroupNotFound,
)

Backend = ec_models.ElastiCacheBackend

# --- 1. replication group lifecycle -------------------------------------------------------------
_orig_create_rg = Backend.create_replication_group
_orig_describe_rg = Backend.describe_replication_groups
_orig_delete_rg = Backend.delete_replication_group


CREATING_SECONDS = float(os.environ.get("ECP_MOTO_RG_CREATING_SECONDS", "0"))
DELETING_SECONDS = float(os.environ.get("ECP_MOTO_RG_DELETING_SECONDS", "0"))


def _create_rg(self, *args, **kwargs):
    rg = _orig_create_rg(self, *args, **kwargs)
    rg.status = "creating"
    rg._ecp_describes = 0
    rg._ecp_since = time.monotonic()
    return rg


def _describe_rg(self, replication_group_id=None):
    groups = _orig_describe_rg(self, replication_group_id)
    out = []
    for rg in groups:
        seen = getattr(rg, "_ecp_describes", 0)
        age = time.monotonic() - getattr(rg, "_ecp_since", 0.0)
        if rg.status == "deleting" and seen >= 1 and age >= DELETING_SECONDS:
            self.replication_groups.pop(rg.replication_group_id, None)
            continue
        if rg.status == "creating" and seen >= 1 and age >= CREATING_SECONDS:
            rg.status = "available"
        rg._ecp_describes = seen + 1
        out.append(rg)
    if replication_group_id and not out:
        raise ReplicationGroupNotFound(replication_group_id)
    return out


def _delete_rg(self, replication_group_id, retain_primary_cluster):
    rg = self.replication_groups.get(replication_group_id)
    if rg is not None and rg.status == "creating":
        raise InvalidReplicationGroupState(replication_group_id, rg.status)
    rg = _orig_delete_rg(self, replication_group_id, retain_primary_cluster)
    rg._ecp_describes = 0
    rg._ecp_since = time.monotonic()
    return rg


class InvalidReplicationGroupState(ElastiCacheException):
    code = "InvalidReplicationGroupState"

    def __init__(self, rg_id, status):
        super().__init__(
            f"Replication group {rg_id} has status {status} which is not valid for deletion."
        )


Backend.create_replication_group = _create_rg
Backend.describe_replication_groups = _describe_rg
Backend.delete_replication_group = _delete_rg


# --- 2. DeleteCacheSubnetGroup ------------------------------------------------------------------
class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name):
        super().__init__(f"Cache subnet group {name} is currently in use.")


def _delete_subnet_group(self, cache_subnet_group_name):
    if cache_subnet_group_name not in self.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(cache_subnet_group_name)
    for rg in self.replication_groups.values():
        if getattr(rg, "cache_subnet_group_name", None) == cache_subnet_group_name:
            raise CacheSubnetGroupInUse(cache_subnet_group_name)
    group = self.cache_subnet_groups.pop(cache_subnet_group_name)
    try:
        self.tagging_service.delete_all_tags_for_resource(group.arn)
    except Exception:  # older moto: tags stay, the group is gone either way
        pass


def _delete_subnet_group_response(self):
    self.elasticache_backend.delete_cache_subnet_group(
        self._get_param("CacheSubnetGroupName")
    )
    return EmptyResult()


Backend.delete_cache_subnet_group = _delete_subnet_group
ec_responses.ElastiCacheResponse.delete_cache_subnet_group = _delete_subnet_group_response


# --- 3. DescribeCacheEngineVersions ----------------------------------------------------------
ENGINE_VERSIONS = {
    # engine: [(version, family)], the default last
    "redis": [("6.0", "redis6.x"), ("6.2", "redis6.x"), ("7.0", "redis7"), ("7.1", "redis7")],
    "valkey": [("7.2", "valkey7"), ("8.0", "valkey8"), ("8.1", "valkey8")],
}


def _describe_cache_engine_versions(self):
    engine = (self._get_param("Engine") or "").lower()
    version = self._get_param("EngineVersion")
    family = self._get_param("CacheParameterGroupFamily")
    default_only = self._get_bool_param("DefaultOnly")
    out = []
    for eng, versions in ENGINE_VERSIONS.items():
        if engine and eng != engine:
            continue
        for i, (v, fam) in enumerate(versions):
            if version and not (v == version or v.startswith(version + ".")):
                continue
            if family and fam != family:
                continue
            if default_only and i != len(versions) - 1:
                continue
            out.append(
                {
                    "Engine": eng,
                    "EngineVersion": v,
                    "CacheParameterGroupFamily": fam,
                    "CacheEngineDescription": eng,
                    "CacheEngineVersionDescription": f"{eng} {v}",
                }
            )
    return ActionResult({"CacheEngineVersions": out})


ec_responses.ElastiCacheResponse.describe_cache_engine_versions = _describe_cache_engine_versions


# --- 4. cache parameter groups --------------------------------------------------------------------
class CacheParameterGroupNotFound(ElastiCacheException):
    code = "CacheParameterGroupNotFound"

    def __init__(self, name):
        super().__init__(f"CacheParameterGroup {name} not found.")


class CacheParameterGroupAlreadyExists(ElastiCacheException):
    code = "CacheParameterGroupAlreadyExists"

    def __init__(self, name):
        super().__init__(f"CacheParameterGroup {name} already exists.")


class InvalidCacheParameterGroupState(ElastiCacheException):
    code = "InvalidCacheParameterGroupState"

    def __init__(self, message):
        super().__init__(message)


from moto.elasticache.exceptions import (  # noqa: E402
    InvalidParameterCombinationException,
    InvalidParameterValueException,
)


def _families():
    return {fam for versions in ENGINE_VERSIONS.values() for _, fam in versions}


def _family_of(engine, version):
    versions = ENGINE_VERSIONS.get((engine or "redis").lower(), [])
    if not version:
        return versions[-1][1] if versions else None
    for v, fam in versions:
        if v == version or v.startswith(version + ".") or version.startswith(v + "."):
            return fam
    return None


def _default_version(engine):
    versions = ENGINE_VERSIONS.get((engine or "redis").lower(), [])
    return versions[-1][0] if versions else None


def _parameter_groups(backend):
    if not hasattr(backend, "_ecp_parameter_groups"):
        backend._ecp_parameter_groups = {}
    return backend._ecp_parameter_groups


def _default_group_family(name):
    """`default.redis7` / `default.redis7.cluster.on` exist in every account, as on AWS."""
    if not name.startswith("default."):
        return None
    fam = name[len("default."):]
    fam = fam[: -len(".cluster.on")] if fam.endswith(".cluster.on") else fam
    return fam if fam in _families() else None


class _ParameterGroup:
    def __init__(self, backend, name, family, description):
        self.name = name
        self.family = family
        self.description = description
        self.parameters = {}
        self.arn = f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:parametergroup:{name}"


def _pg_view(g):
    return {
        "CacheParameterGroupName": g.name,
        "CacheParameterGroupFamily": g.family,
        "Description": g.description,
        "IsGlobal": False,
        "ARN": g.arn,
    }


def _create_parameter_group(self):
    b = self.elasticache_backend
    name = self._get_param("CacheParameterGroupName") or ""
    family = self._get_param("CacheParameterGroupFamily") or ""
    groups = _parameter_groups(b)
    if name.lower() in groups or name.startswith("default."):
        raise CacheParameterGroupAlreadyExists(name)
    if family not in _families():
        raise InvalidParameterValueException(
            f"The parameter CacheParameterGroupFamily {family} is not a valid family."
        )
    g = _ParameterGroup(b, name, family, self._get_param("Description") or "")
    groups[name.lower()] = g
    tags = self._get_param("Tags", [])
    if tags:
        b.tagging_service.tag_resource(g.arn, tags)
    return ActionResult({"CacheParameterGroup": _pg_view(g)})


def _lookup_group(b, name):
    g = _parameter_groups(b).get((name or "").lower())
    if g is None:
        raise CacheParameterGroupNotFound(name)
    return g


def _describe_parameter_groups(self):
    b = self.elasticache_backend
    name = self._get_param("CacheParameterGroupName")
    if name:
        fam = _default_group_family(name)
        if fam is not None:
            groups = [_ParameterGroup(b, name, fam, f"Default parameter group for {fam}")]
        else:
            groups = [_lookup_group(b, name)]
    else:
        groups = list(_parameter_groups(b).values())
    return ActionResult({"CacheParameterGroups": [_pg_view(g) for g in groups]})


def _modify_parameter_group(self):
    b = self.elasticache_backend
    name = self._get_param("CacheParameterGroupName") or ""
    if name.startswith("default."):
        raise InvalidParameterValueException(
            "Default parameter groups cannot be modified; create a parameter group of your own."
        )
    g = _lookup_group(b, name)
    values = self._get_param("ParameterNameValues", []) or []
    if not values:
        raise InvalidParameterValueException("ParameterNameValues must not be empty.")
    if len(values) > 20:
        raise InvalidParameterValueException("At most 20 parameters may be modified per call.")
    for v in values:
        g.parameters[v.get("ParameterName")] = v.get("ParameterValue")
    return ActionResult({"CacheParameterGroupName": g.name})


def _delete_parameter_group(self):
    b = self.elasticache_backend
    name = self._get_param("CacheParameterGroupName") or ""
    if name.startswith("default."):
        raise InvalidCacheParameterGroupState(
            "Default parameter groups cannot be deleted."
        )
    g = _lookup_group(b, name)
    for rg in b.replication_groups.values():
        if (getattr(rg, "cache_parameter_group_name", None) or "").lower() == name.lower():
            raise InvalidCacheParameterGroupState(
                f"One or more cache clusters are still members of cache parameter group {name}, "
                f"please remove the cache clusters from the parameter group before deleting it "
                f"(replication group {rg.replication_group_id} is '{rg.status}')."
            )
    _parameter_groups(b).pop(name.lower(), None)
    try:
        b.tagging_service.delete_all_tags_for_resource(g.arn)
    except Exception:  # older moto: tags stay, the group is gone either way
        pass
    return EmptyResult()


_R = ec_responses.ElastiCacheResponse
_R.create_cache_parameter_group = _create_parameter_group
_R.describe_cache_parameter_groups = _describe_parameter_groups
_R.modify_cache_parameter_group = _modify_parameter_group
_R.delete_cache_parameter_group = _delete_parameter_group

_orig_create_rg_pg = Backend.create_replication_group


def _create_rg_pg(self, *args, **kwargs):
    name = kwargs.get("cache_parameter_group_name") or ""
    if name:
        fam = _default_group_family(name)
        if fam is None:
            fam = _lookup_group(self, name).family
        want = _family_of(kwargs.get("engine"), kwargs.get("engine_version"))
        if want is not None and fam != want:
            raise InvalidParameterCombinationException(
                f"The parameter group {name} (family {fam}) does not match the engine version's "
                f"family {want}."
            )
    return _orig_create_rg_pg(self, *args, **kwargs)


Backend.create_replication_group = _create_rg_pg


# --- 6. data tiering --------------------------------------------------------------------------------
_orig_create_rg_tiering = Backend.create_replication_group


def _create_rg_tiering(self, *args, **kwargs):
    node_type = kwargs.get("cache_node_type") or ""
    tiered = bool(kwargs.get("data_tiering_enabled"))
    is_tiering_type = ".r6gd." in node_type
    if is_tiering_type and not tiered:
        raise InvalidParameterCombinationException(
            f"DataTieringEnabled must be true for node type {node_type}."
        )
    if tiered and not is_tiering_type:
        raise InvalidParameterCombinationException(
            f"Data tiering is only supported for r6gd node types, not {node_type}."
        )
    return _orig_create_rg_tiering(self, *args, **kwargs)


Backend.create_replication_group = _create_rg_tiering

# The parameter groups in the tagging APIs.
import re as _re  # noqa: E402

_orig_backend_init = Backend.__init__


def _backend_init(self, *args, **kwargs):
    _orig_backend_init(self, *args, **kwargs)
    self.arn_regex = _re.compile(
        r"^arn:aws:elasticache:.*:[0-9]*:(cluster|snapshot|subnetgroup|replicationgroup|user|parametergroup):.*$"
    )


Backend.__init__ = _backend_init

_orig_iter_tagged = Backend.iter_tagged_resources


def _iter_tagged(self):
    yield from _orig_iter_tagged(self)
    from moto.core.resource_tagging import TaggedResource

    for g in list(_parameter_groups(self).values()):
        yield TaggedResource(
            arn=g.arn,
            tags=self.tagging_service.get_tag_dict_for_resource(g.arn),
            resource_type="elasticache:parametergroup",
            extra={"include_untagged": True},
        )


Backend.iter_tagged_resources = _iter_tagged


# --- 5. DescribeCacheClusters for member clusters -------------------------------------------------
_orig_describe_cache_clusters = ec_responses.ElastiCacheResponse.describe_cache_clusters


def _describe_cache_clusters(self):
    b = self.elasticache_backend
    cid = self._get_param("CacheClusterId")
    if cid and cid not in b.cache_clusters:
        for rg in b.replication_groups.values():
            if cid in (rg.member_clusters or []):
                pg = getattr(rg, "cache_parameter_group_name", None) or (
                    f"default.{_family_of(rg.engine, rg.engine_version)}"
                    + (".cluster.on" if rg.cluster_mode == "enabled" else "")
                )
                status = "available" if rg.status == "available" else rg.status
                return ActionResult(
                    {
                        "CacheClusters": [
                            {
                                "CacheClusterId": cid,
                                "CacheNodeType": rg.cache_node_type,
                                "Engine": rg.engine,
                                "EngineVersion": rg.engine_version
                                or _default_version(rg.engine),
                                "CacheClusterStatus": status,
                                "ReplicationGroupId": rg.replication_group_id,
                                "CacheParameterGroup": {
                                    "CacheParameterGroupName": pg,
                                    "ParameterApplyStatus": "in-sync",
                                },
                                "TransitEncryptionEnabled": rg.transit_encryption_enabled,
                            }
                        ]
                    }
                )
    return _orig_describe_cache_clusters(self)


ec_responses.ElastiCacheResponse.describe_cache_clusters = _describe_cache_clusters


# --- strict switches ----------------------------------------------------------------------------
STRICT = os.environ.get("ECP_MOTO_STRICT", "") not in ("", "0", "false")


def _switch(name, strict_value):
    v = os.environ.get(name)
    if v is not None and v != "":
        return float(v)
    return float(strict_value) if STRICT else 0.0


EC2_LAG = _switch("ECP_MOTO_EC2_LAG_SECONDS", 2)
IAM_LAG = _switch("ECP_MOTO_IAM_LAG_SECONDS", 3)
CAPACITY_FAILURES = int(_switch("ECP_MOTO_CAPACITY_FAILURES", 2))
CLUSTER_GONE = _switch("ECP_MOTO_CLUSTER_GONE", 1) > 0
INSIGHTS_RECREATE = _switch("ECP_MOTO_INSIGHTS_RECREATE", 1) > 0
LOG_LAG = _switch("ECP_MOTO_LOG_LAG_SECONDS", 3)
S3_REGION_REDIRECT = _switch("ECP_MOTO_S3_REGION_REDIRECT", 1) > 0
CLUSTER_MODE_STRICT = _switch("ECP_MOTO_CLUSTER_MODE_STRICT", 1) > 0

_lock = threading.RLock()
_created_at = {}  # security group id / role ARN -> time.monotonic() of its creation


def _log_switches():
    on = {
        "EC2_LAG": EC2_LAG,
        "IAM_LAG": IAM_LAG,
        "CAPACITY_FAILURES": CAPACITY_FAILURES,
        "CLUSTER_GONE": CLUSTER_GONE,
        "INSIGHTS_RECREATE": INSIGHTS_RECREATE,
        "LOG_LAG": LOG_LAG,
        "S3_REGION_REDIRECT": S3_REGION_REDIRECT,
        "CLUSTER_MODE_STRICT": CLUSTER_MODE_STRICT,
    }
    print("moto_server.py strict switches: " + ", ".join(f"{k}={v}" for k, v in on.items()), flush=True)


def _young(key, lag):
    t = _created_at.get(key)
    return t is not None and time.monotonic() - t < lag


# EC2 eventual consistency.
from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError  # noqa: E402
from moto.ec2.models.security_groups import SecurityGroupBackend  # noqa: E402

_orig_create_sg = SecurityGroupBackend.create_security_group
_orig_authorize = SecurityGroupBackend.authorize_security_group_ingress


def _create_sg(self, *args, **kwargs):
    group = _orig_create_sg(self, *args, **kwargs)
    _created_at[group.id] = time.monotonic()
    return group


def _authorize(self, group_name_or_id, *args, **kwargs):
    if EC2_LAG > 0 and _young(group_name_or_id, EC2_LAG):
        raise InvalidSecurityGroupNotFoundError(group_name_or_id)
    return _orig_authorize(self, group_name_or_id, *args, **kwargs)


SecurityGroupBackend.create_security_group = _create_sg
SecurityGroupBackend.authorize_security_group_ingress = _authorize

# IAM propagation.
from moto.iam.models import IAMBackend  # noqa: E402
from moto.ecs.models import EC2ContainerServiceBackend as EcsBackend  # noqa: E402
from moto.ecs.exceptions import ClusterNotFoundException, EcsClientException  # noqa: E402
from moto.scheduler.models import EventBridgeSchedulerBackend  # noqa: E402
from moto.scheduler.exceptions import ValidationException as SchedulerValidation  # noqa: E402

_orig_create_role = IAMBackend.create_role


def _create_role(self, *args, **kwargs):
    role = _orig_create_role(self, *args, **kwargs)
    _created_at[role.arn] = time.monotonic()
    return role


IAMBackend.create_role = _create_role

_orig_register_td = EcsBackend.register_task_definition


def _register_td(self, *args, **kwargs):
    role = kwargs.get("execution_role_arn")
    if IAM_LAG > 0 and role and _young(role, IAM_LAG):
        raise EcsClientException("Role is not valid")
    return _orig_register_td(self, *args, **kwargs)


EcsBackend.register_task_definition = _register_td

_orig_create_schedule = EventBridgeSchedulerBackend.create_schedule


def _create_schedule(self, *args, **kwargs):
    target = kwargs.get("target") or {}
    role = target.get("RoleArn")
    if IAM_LAG > 0 and role and _young(role, IAM_LAG):
        raise SchedulerValidation(
            "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."
        )
    return _orig_create_schedule(self, *args, **kwargs)


EventBridgeSchedulerBackend.create_schedule = _create_schedule

# ECS: capacity, clusters that are gone, Container Insights' log group.
from moto.ecs import responses as ecs_responses  # noqa: E402
from moto.logs.models import logs_backends, LogStream  # noqa: E402

CAPACITY_REASON = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)
_run_task_calls = {"n": 0}
_orig_run_task_response = ecs_responses.EC2ContainerServiceResponse.run_task
_orig_get_cluster = EcsBackend._get_cluster
_orig_run_task = EcsBackend.run_task
_orig_delete_cluster = EcsBackend.delete_cluster


def _insights_group(cluster):
    return f"/aws/ecs/containerinsights/{cluster.name}/performance"


def _insights_on(cluster):
    return any(
        s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
        for s in (cluster.settings or [])
    )


def _ensure_insights_group(backend, cluster):
    logs = logs_backends[backend.account_id][backend.region_name]
    name = _insights_group(cluster)
    if name not in logs.groups:
        logs.create_log_group(name, {})


def _run_task_response(self):
    with _lock:
        _run_task_calls["n"] += 1
        n = _run_task_calls["n"]
    if n > CAPACITY_FAILURES:
        return _orig_run_task_response(self)
    count = self._get_int_param("count", 1)
    start = count // 2
    tasks = []
    if start > 0:
        tasks = self.ecs_backend.run_task(
            self._get_param("cluster", "default"),
            self._get_param("taskDefinition"),
            start,
            self._get_param("overrides"),
            self._get_param("startedBy"),
            self._get_param("tags"),
            self._get_param("launchType"),
            self._get_param("networkConfiguration"),
            self._get_param("group"),
            self._get_param("platformVersion"),
            self._get_param("capacityProviderStrategy"),
        )
    failures = [{"reason": CAPACITY_REASON} for _ in range(count - start)]
    return ActionResult({"tasks": tasks, "failures": failures})


def _get_cluster(self, name):
    cluster = _orig_get_cluster(self, name)
    if CLUSTER_GONE and cluster.status == "INACTIVE":
        raise ClusterNotFoundException()
    return cluster


def _run_task(self, cluster_str, *args, **kwargs):
    tasks = _orig_run_task(self, cluster_str, *args, **kwargs)
    if INSIGHTS_RECREATE and tasks:
        cluster = self._get_cluster(cluster_str)
        if _insights_on(cluster):
            cluster._ecp_ran_tasks = True
            _ensure_insights_group(self, cluster)
    return tasks


def _delete_cluster(self, cluster_str):
    cluster = _orig_delete_cluster(self, cluster_str)
    if INSIGHTS_RECREATE and getattr(cluster, "_ecp_ran_tasks", False) and _insights_on(cluster):
        # The last performance events arrive after the tasks stopped: the service writes them,
        # creating the group again if it was deleted.
        _ensure_insights_group(self, cluster)
    return cluster


SLOW_STOPS = int(float(os.environ.get("ECP_MOTO_SLOW_STOP_TASKS") or 0))
_slow_stops = {"n": 0}
_orig_stop_task = EcsBackend.stop_task


def _stop_task(self, cluster_str, task_str, reason):
    if SLOW_STOPS > 0 and "elasticache-perf" in (reason or ""):
        with _lock:
            take = _slow_stops["n"] < SLOW_STOPS
            if take:
                _slow_stops["n"] += 1
        if take:
            cluster = self._get_cluster(cluster_str)
            for arn, task in self.tasks.get(cluster.name, {}).items():
                if arn.endswith(task_str.split("/")[-1]):
                    task.desired_status = "STOPPED"
                    task.last_status = "STOPPING"
                    task._ecp_stuck = True
                    return task
    return _orig_stop_task(self, cluster_str, task_str, reason)


ecs_responses.EC2ContainerServiceResponse.run_task = _run_task_response
EcsBackend.stop_task = _stop_task
EcsBackend._get_cluster = _get_cluster
EcsBackend.run_task = _run_task
EcsBackend.delete_cluster = _delete_cluster

# CloudWatch Logs: late visibility.
_orig_put_events = LogStream.put_log_events
_orig_get_events = LogStream.get_log_events


def _put_events(self, *args, **kwargs):
    with _lock:
        return _orig_put_events(self, *args, **kwargs)


def _get_events(self, *args, **kwargs):
    with _lock:
        if LOG_LAG <= 0:
            return _orig_get_events(self, *args, **kwargs)
        cutoff = int(time.time() * 1000) - int(LOG_LAG * 1000)
        everything = self.events
        self.events = [e for e in everything if e.ingestion_time <= cutoff]
        try:
            return _orig_get_events(self, *args, **kwargs)
        finally:
            self.events = everything


LogStream.put_log_events = _put_events
LogStream.get_log_events = _get_events

# ElastiCache: cluster mode needs a cluster-enabled parameter group.
from moto.elasticache.exceptions import InvalidParameterCombinationException  # noqa: E402

_orig_create_rg_strict = Backend.create_replication_group


def _create_rg_strict(self, *args, **kwargs):
    groups = kwargs.get("num_node_groups") or 1
    pg = kwargs.get("cache_parameter_group_name") or ""
    if CLUSTER_MODE_STRICT and int(groups) > 1 and not pg.endswith(".cluster.on"):
        raise InvalidParameterCombinationException(
            f"Cluster mode needs a parameter group with cluster-enabled set to yes, "
            f"got '{pg or 'the default group'}' for {groups} node groups."
        )
    return _orig_create_rg_strict(self, *args, **kwargs)


Backend.create_replication_group = _create_rg_strict


# S3: a bucket in another region.
import re  # noqa: E402
import moto.server as moto_server_module  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402

_CRED_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/s3/")


def _bucket_region(name):
    for account in list(s3_backends.keys()):
        b = s3_backends[account]["global"].buckets.get(name)
        if b is not None:
            return b.region_name
    return None


class _RedirectingApp(moto_server_module.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        if S3_REGION_REDIRECT:
            m = _CRED_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
            bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
            if m and bucket:
                region = _bucket_region(bucket)
                if region and region != m.group(1):
                    body = (
                        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect'
                        "</Code><Message>The bucket you are attempting to access must be "
                        "addressed using the specified endpoint.</Message>"
                        f"<Bucket>{bucket}</Bucket></Error>"
                    ).encode()
                    headers = [
                        ("x-amz-bucket-region", region),
                        ("Content-Type", "application/xml"),
                        ("Content-Length", str(len(body))),
                    ]
                    start_response("301 Moved Permanently", headers)
                    return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]
        return super().__call__(environ, start_response)


moto_server_module.DomainDispatcherApplication = _RedirectingApp


def _exit_with_parent():
    """The tests start one server each and may be killed without a chance to stop it: leave when
    the parent process goes away (we are then re-parented)."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    main = moto_server_module.main

    _exit_with_parent()
    _log_switches()
    main(sys.argv[1:])
