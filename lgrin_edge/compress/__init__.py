"""Compression: fold learned constants into a deployment model; int8 quantisation lives with each export."""
