"""The example pipelines that ship with medallion-ibis, written with its public API."""
