"""Workspace, compute and datastore calls real notebooks make: `AmlCompute.get_status()` as a
status object, the cluster's nodes and active runs, the workspace's defaults, and the cloud-only
sources refused in one line."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from runner.sdk import AmlCompute, ComputeTarget, Dataset, Datastore, Experiment, Pipeline, PythonScriptStep, Workspace
from runner.sdk.compute import AmlComputeProvisioningConfiguration
from runner.sdk.compute_status import AmlComputeStatus
from runner.sdk.runs import StepRun
from runner.step_runtime.exceptions import UserErrorException


def test_aml_compute_status_is_an_object_with_the_sdks_fields(workspace):
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=0, max_nodes=3,
                                                   idle_seconds_before_scaledown=600)
    cluster = ComputeTarget.create(workspace, "cpu-cluster", config)
    status = cluster.get_status()
    assert isinstance(status, AmlComputeStatus) and isinstance(cluster.status, AmlComputeStatus)
    assert (status.provisioning_state, status.current_node_count, status.vm_size, status.vm_priority) == \
        ("Succeeded", 0, "STANDARD_D2_V2", "dedicated")
    assert isinstance(status.creation_time, dt.datetime)
    data = status.serialize()
    assert data["scaleSettings"] == {"minNodeCount": 0, "maxNodeCount": 3, "nodeIdleTimeBeforeScaleDown": "PT10M"}
    assert data["nodeStateCounts"] == {"preparingNodeCount": 0, "runningNodeCount": 0, "idleNodeCount": 0,
                                       "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0}
    assert (data["provisioningState"], data["allocationState"], data["currentNodeCount"]) == \
        ("Succeeded", "Steady", 0)


def test_a_running_step_occupies_a_node_of_its_cluster(workspace, write, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("GATE", str(gate))
    write("steps/wait.py", "import os, time\nwhile not os.path.exists(os.environ['GATE']):\n"
                           "    time.sleep(0.05)\n")
    cluster = ComputeTarget.create(workspace, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    step = PythonScriptStep("wait.py", name="wait", source_directory=str(tmp_path / "steps"),
                            compute_target=cluster)
    run = Experiment(workspace, "busy").submit(Pipeline(workspace, [step]))
    deadline = time.time() + 20
    while cluster.get_status().node_state_counts.running_node_count == 0 and time.time() < deadline:
        time.sleep(0.05)
    status = cluster.get_status()
    assert (status.current_node_count, status.node_state_counts.running_node_count) == (1, 1)
    (node,) = cluster.list_nodes()
    (step_run,) = run.get_steps()
    assert (node["nodeState"], node["runId"]) == ("running", step_run.id)
    active = list(cluster.get_active_runs())
    assert [type(r) for r in active] == [StepRun] and active[0].id == step_run.id
    assert list(cluster.get_active_runs(status="Queued")) == []
    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert (cluster.get_status().current_node_count, cluster.list_nodes()) == (0, [])


def test_supported_vm_sizes_are_the_ones_amlocal_turns_into_limits(workspace):
    sizes = {s["name"]: s for s in AmlCompute.supported_vmsizes(workspace)}
    assert sizes["Standard_DS3_v2"] == {"name": "Standard_DS3_v2", "vCPUs": 4, "memoryGB": 14.0}
    assert len(sizes) == 34


def test_provisioning_configuration_takes_the_sdks_parameters():
    config = AmlComputeProvisioningConfiguration("STANDARD_D2_V2", "lowpriority", 1, 4)
    assert (config.vm_size, config.vm_priority, config.min_nodes, config.max_nodes,
            config.idle_seconds_before_scaledown, config.enable_node_public_ip) == \
        ("STANDARD_D2_V2", "lowpriority", 1, 4, 1800, True)


def test_workspace_defaults_and_what_only_azure_has(workspace):
    cpu = Workspace.DEFAULT_CPU_CLUSTER_CONFIGURATION
    assert (cpu.vm_size, cpu.min_nodes, cpu.max_nodes) == ("STANDARD_DS2_V2", 0, 2)
    assert Workspace.DEFAULT_GPU_CLUSTER_CONFIGURATION.vm_size == "STANDARD_NC6"
    assert workspace.get_default_compute_target("CPU") is None
    ComputeTarget.create(workspace, "cpu-cluster", Workspace.DEFAULT_CPU_CLUSTER_CONFIGURATION)
    assert workspace.get_default_compute_target("CPU").max_nodes == 2
    with pytest.raises(UserErrorException, match="type must be 'CPU' or 'GPU'"):
        workspace.get_default_compute_target("TPU")
    listed = Workspace.list("sub")
    assert list(listed) == ["local"] and listed["local"][0].subscription_id == "sub"
    assert workspace.get_mlflow_tracking_uri() == (workspace._local.layout.root / "mlruns").as_uri()
    assert (workspace.webservices, workspace.images, workspace.linked_services,
            workspace.private_endpoints) == ({}, {}, {}, {})


def test_cloud_only_datastores_and_sql_datasets_are_refused_in_one_line(workspace):
    with pytest.raises(UserErrorException) as refused:
        Datastore.register_azure_sql_database(workspace, "sql", "server", "db", username="u",
                                              password="secret")
    assert str(refused.value) == (
        "Datastore.register_azure_sql_database: Azure SQL Database is a cloud-only datastore "
        "amlocal cannot reach; export the data to files and register a local folder for them "
        "with Datastore.register_azure_blob_container (or upload them to workspaceblobstore)")
    for method, kind in (("register_azure_data_lake_gen2", "Azure Data Lake Storage Gen2"),
                         ("register_azure_data_lake", "Azure Data Lake Storage Gen1"),
                         ("register_azure_my_sql", "Azure Database for MySQL"),
                         ("register_azure_postgre_sql", "Azure Database for PostgreSQL"),
                         ("register_dbfs", "the Databricks File System (DBFS)"),
                         ("register_hdfs", "HDFS")):
        with pytest.raises(UserErrorException) as refused:
            getattr(Datastore, method)(workspace, "x")
        assert str(refused.value).startswith(f"Datastore.{method}: {kind} is a cloud-only datastore")
    with pytest.raises(UserErrorException, match="Dataset.from_sql_query: SQL databases are a "
                                                 "cloud-only source amlocal cannot read"):
        Dataset.from_sql_query(None, "SELECT 1")
