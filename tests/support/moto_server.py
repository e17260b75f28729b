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
"""

import os
import sys
import time

from moto.core.responses import EmptyResult
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
    from moto.server import main

    _exit_with_parent()
    main(sys.argv[1:])
