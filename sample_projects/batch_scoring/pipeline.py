"""Batch scoring over files with a ParallelRunStep: sensor readings in, one row per file out.

    amlocal run sample_projects/batch_scoring/pipeline.py
    amlocal run --executor docker sample_projects/batch_scoring/pipeline.py

The readings (24 CSV files) are a FileDataset split into mini-batches of 4 files; two worker
processes each load the model (a side input) in init() and score mini-batches in run(). The
rows land in parallel_run_step.txt in the step's output; the step's logs/ folder holds
Azure's job_result.txt, job_error.txt and one log per worker. The environment needs only the
standard library, so it runs unchanged in a local process or a container.
"""
import os

from azureml.core import Dataset, Environment, Experiment, Workspace
from azureml.data import OutputFileDatasetConfig
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
datastore = ws.get_default_datastore()
datastore.upload(os.path.join(here, "data", "readings"), target_path="batch_scoring/readings",
                 overwrite=True, show_progress=False)
datastore.upload(os.path.join(here, "model"), target_path="batch_scoring/model",
                 overwrite=True, show_progress=False)
readings = Dataset.File.from_files(path=(datastore, "batch_scoring/readings"))
model = Dataset.File.from_files(path=(datastore, "batch_scoring/model"))
model_input = model.as_named_input("model").as_mount()

config = ParallelRunConfig(
    source_directory=os.path.join(here, "scoring"),
    entry_script="score.py",
    mini_batch_size="4",
    error_threshold=0,
    output_action="append_row",
    environment=Environment("batch-scoring"),
    compute_target="local",
    node_count=1,
    process_count_per_node=2,
    run_invocation_timeout=60)

scores = OutputFileDatasetConfig(name="scores")
score_step = ParallelRunStep(
    name="score-sensors",
    parallel_run_config=config,
    inputs=[readings.as_named_input("readings")],
    side_inputs=[model_input],
    output=scores,
    arguments=["--model", model_input, "--cutoff", 0.6],
    allow_reuse=True)

pipeline = Pipeline(workspace=ws, steps=[score_step], description="batch_scoring")
run = Experiment(ws, "batch-scoring").submit(pipeline)
run.wait_for_completion(show_output=True)
