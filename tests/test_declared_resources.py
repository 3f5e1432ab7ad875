"""Compute targets and datastores that exist before the script runs: amlocal.yaml, the
command line, and folders under .amlocal/datastores — and what a user sees when one is missing."""
from __future__ import annotations

import pytest

from runner.sdk import ComputeTarget, Datastore
from runner.sdk.compute import AmlCompute
from runner.step_runtime.exceptions import ComputeTargetException, UserErrorException
from runner.step_runtime.http_errors import HttpOperationError
from tests.conftest import amlocal

DECLARATION = """
    compute:
      - name: cpu-cluster
        vm_size: STANDARD_D2_V2
        max_nodes: 2
    datastores:
      - name: my_datastore
        from: seed
"""

LOOKUP_STEP = """
    import os, sys
    from azureml.core import Run
    root = sys.argv[1]
    found = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
    print("files:", ",".join(found))
    print("parent run number:", Run.get_context().parent.number)
"""

LOOKUP_PIPELINE = """
    from azureml.core import Datastore, Experiment, Workspace
    from azureml.core.compute import ComputeTarget
    from azureml.data.data_reference import DataReference
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep

    ws = Workspace.from_config()
    cluster = ws.compute_targets["cpu-cluster"]
    print("cluster:", type(cluster).__name__, cluster.vm_size, repr(cluster.max_nodes))
    ds = Datastore(ws, "my_datastore")
    print("datastore:", type(ds).__name__, ds.name)
    raw = DataReference(ds, data_reference_name="raw", path_on_datastore="/")
    step = PythonScriptStep("read.py", source_directory="steps", arguments=[raw], inputs=[raw],
                            compute_target=ComputeTarget(ws, "cpu-cluster"), allow_reuse=False)
    Experiment(ws, "declared").submit(Pipeline(ws, [step])).wait_for_completion(show_output=False)
"""


@pytest.fixture
def project(tmp_path, write):
    """A project whose pipeline looks up cpu-cluster and my_datastore by name."""
    write("proj/pipeline.py", LOOKUP_PIPELINE)
    write("proj/steps/read.py", LOOKUP_STEP)
    write("proj/seed/a.csv", "x,y\n1,2\n")
    write("proj/seed/nested/b.txt", "b")
    return tmp_path / "proj"


def test_a_declared_cluster_and_seeded_datastore_are_found_by_name(project, tmp_path, write):
    write("proj/amlocal.yaml", DECLARATION)
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    done = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cluster: AmlCompute STANDARD_D2_V2 2\n" in done.stdout
    assert "datastore: AzureBlobDatastore my_datastore\n" in done.stdout
    logs = amlocal("logs", "latest", cwd=tmp_path, env=env)
    assert "files: a.csv,nested/b.txt\n" in logs.stdout
    assert "parent run number: 1\n" in logs.stdout
    seeded = tmp_path / ".amlocal" / "datastores" / "my_datastore" / "a.csv"
    assert seeded.read_text() == "x,y\n1,2\n"
    listed = amlocal("compute", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    row = [line for line in listed.stdout.splitlines() if line.startswith("cpu-cluster")][0]
    assert row.split()[:4] == ["cpu-cluster", "AmlCompute", "STANDARD_D2_V2", "2"]
    assert f"declared in {project / 'amlocal.yaml'}" in row
    # a second run numbers its pipeline run 2
    again = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "parent run number: 2\n" in amlocal("logs", "latest", cwd=tmp_path, env=env).stdout


def test_without_the_declaration_the_sdk_error_names_the_command(project, tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    done = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("amlocal: error")]
    assert line == ("amlocal: error: pipeline.py:9: KeyError: 'cpu-cluster' (amlocal: create it "
                    "with `amlocal compute create cpu-cluster --max-nodes 1` (add --vm-size SIZE "
                    "for its limits), or declare it in amlocal.yaml beside the script: "
                    "compute: [{name: cpu-cluster, max_nodes: 1}])")
    # the command it names makes the cluster; then the datastore is what is missing
    made = amlocal("compute", "create", "cpu-cluster", "--max-nodes", "1", cwd=tmp_path, env=env)
    assert made.returncode == 0
    assert made.stdout == ("compute target cpu-cluster (AmlCompute): at most 1 of its steps at "
                           "once; no --vm-size: no CPU or memory limit\n")
    done = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert ("pipeline.py:11: ErrorResponseException: (UserError) Could not find datastore: "
            "my_datastore (amlocal: register it with `amlocal datastore register my_datastore` "
            "(--from DIR copies files in), or declare it in amlocal.yaml beside the script: "
            "datastores: [{name: my_datastore}]; registered: workspaceblobstore, "
            "workspacefilestore)") in done.stderr
    registered = amlocal("datastore", "register", "my_datastore", "--from", str(project / "seed"),
                         cwd=tmp_path, env=env)
    assert registered.returncode == 0, registered.stderr
    assert "; copied 2 files from" in registered.stdout
    done = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "cluster: AmlCompute None 1\n" in done.stdout


def test_sdk_lookups_of_missing_resources_raise_the_sdks_errors(workspace):
    with pytest.raises(ComputeTargetException) as missing:
        ComputeTarget(workspace, "gpu-cluster")
    assert str(missing.value).startswith(
        "ComputeTargetNotFound: Compute Target with name gpu-cluster not found in provided "
        "workspace (amlocal: create it with `amlocal compute create gpu-cluster --max-nodes 1`")
    with pytest.raises(KeyError) as key:
        workspace.compute_targets["gpu-cluster"]
    assert type(key.value).__name__ == "KeyError" and key.value.args == ("gpu-cluster",)
    with pytest.raises(HttpOperationError) as store:
        Datastore(workspace, "my_datastore")
    assert isinstance(store.value, UserErrorException)
    assert store.value.response.status_code == 404
    assert str(store.value).startswith("(UserError) Could not find datastore: my_datastore")
    with pytest.raises(KeyError):
        workspace.datastores["my_datastore"]


def test_a_folder_under_datastores_counts_as_registered(workspace):
    folder = workspace._local.layout.datastores_dir / "landing"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "x.csv").write_text("1")
    ds = Datastore(workspace, "landing")
    assert (type(ds).__name__, ds.name, ds.datastore_type) == ("AzureBlobDatastore", "landing",
                                                               "AzureBlob")
    assert "landing" in workspace.datastores
    assert ds.download(str(workspace._local.layout.root.parent / "dl"), show_progress=False) == 1


def test_a_link_under_datastores_is_not_adopted(workspace, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (workspace._local.layout.datastores_dir / "sneaky").symlink_to(tmp_path / "elsewhere")
    assert "sneaky" not in workspace.datastores


def test_declared_resources_in_process_and_seeded_only_once(workspace, write, tmp_path):
    write("amlocal.yaml", """
        compute:
          - {name: cpu-cluster, vm_size: STANDARD_DS3_V2, max_nodes: 4, min_nodes: 1}
          - {name: dev-box, type: ComputeInstance, vm_size: STANDARD_D2_V2}
        datastores:
          - {name: my_datastore, type: AzureFile, from: seed}
    """)
    write("seed/a.txt", "seed")
    (tmp_path / "seed" / "outside.txt").symlink_to("/etc/hostname")  # links are not copied
    cluster = ComputeTarget(workspace, "cpu-cluster")
    assert (type(cluster), cluster.max_nodes, cluster.vm_size) == (AmlCompute, 4, "STANDARD_DS3_V2")
    assert type(ComputeTarget(workspace, "dev-box")).__name__ == "ComputeInstance"
    ds = Datastore(workspace, "my_datastore")
    assert type(ds).__name__ == "AzureFileDatastore"
    stored = workspace._local.layout.datastore_dir("my_datastore") / "a.txt"
    assert stored.read_text() == "seed"
    assert sorted(p.name for p in stored.parent.iterdir()) == ["a.txt"]
    stored.write_text("changed by a step")
    write("seed/b.txt", "new seed file")
    from runner.resources import registry
    registry._applied.clear()  # as a new process would
    registry.apply_declarations(workspace._local)
    assert stored.read_text() == "changed by a step"
    assert not stored.with_name("b.txt").exists()  # a folder seeds a datastore once


@pytest.mark.parametrize("text, problem", [
    ("compute:\n  - name: c\n    max_nodes: two\n",
     "compute[0] (c): max_nodes must be a whole number of at least 1, not 'two'"),
    ("compute:\n  - name: c\n    colour: red\n",
     "compute[0] (c): unknown key 'colour'; the keys are name, type, vm_size, min_nodes, "
     "max_nodes, description, tags"),
    ("datastores:\n  - name: d\n    from: nowhere\n", "datastores[0] (d): from: nowhere is not a folder"),
    ("compute: [\n", "line 2: expected the node content"),
    ("clusters: []\n", "top level: unknown section 'clusters'; the sections are compute and datastores"),
])
def test_a_bad_declaration_is_one_line_naming_the_entry(tmp_path, text, problem):
    (tmp_path / "amlocal.yaml").write_text(text)
    (tmp_path / "p.py").write_text("from azureml.core import Workspace\nWorkspace.from_config()\n")
    done = amlocal("run", "p.py", cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("amlocal: error")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    assert f"{tmp_path / 'amlocal.yaml'}: {problem}" in errors[0]


def test_dot_azureml_amlocal_yaml_is_found_from_a_subfolder(workspace, write, tmp_path,
                                                            monkeypatch):
    write(".azureml/amlocal.yaml", "compute:\n  - {name: cpu-cluster, max_nodes: 3}\n")
    (tmp_path / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "deep")
    assert workspace.compute_targets["cpu-cluster"].max_nodes == 3


def test_cli_commands_check_their_input(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    bad = amlocal("compute", "create", "c", "--max-nodes", "0", cwd=tmp_path, env=env)
    assert (bad.returncode, bad.stderr) == (1, "amlocal: error: --max-nodes must be at least 1, "
                                               "not 0\n")
    bad = amlocal("datastore", "register", "d", "--from", "missing", cwd=tmp_path, env=env)
    assert (bad.returncode, bad.stderr) == (1, "amlocal: error: --from missing: not a folder\n")
    made = amlocal("compute", "create", "--vm-size", "STANDARD_D2_V2", "c", "--max-nodes", "3",
                   cwd=tmp_path, env=env)
    assert made.stdout == ("compute target c (AmlCompute): at most 3 of its steps at once; "
                           "2 CPUs and 7168 MiB per step\n")
    listed = amlocal("datastore", "list", cwd=tmp_path, env=env)
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [
        "workspaceblobstore", "workspacefilestore"]
    row = amlocal("compute", "list", cwd=tmp_path, env=env).stdout.splitlines()[1]
    assert row.split() == ["c", "AmlCompute", "STANDARD_D2_V2", "3", "amlocal", "compute", "create"]
