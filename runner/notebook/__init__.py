"""Jupyter notebooks: `amlocal run NOTEBOOK.ipynb` (`execute`), the kernel that has amlocal's
`azureml` first on its path (`kernel`), and the kernelspecs that register it under amlocal's
own name and the Azure ML compute-instance names (`kernelspecs`)."""
