"""The paper's analyses (Section IV-D) as functions the commands call."""
