"""The SDK versions amlocal emulates (`azureml.core.VERSION` and friends).

amlocal reproduces azureml-core 1.61 and azureml-pipeline-core/-steps 1.62, as described in
`azureml-v1/sdk-semantics.md`; scripts print these and some branch on them.
"""
SDK_VERSION = "1.61.0"
PIPELINE_SDK_VERSION = "1.62.0"
