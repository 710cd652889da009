"""Protocol executors: how models collaborate beyond the drawn dataflow (see ``workbench.engine.context``)."""
