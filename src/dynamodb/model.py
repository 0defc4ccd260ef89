"""The original import path of the model classes: ``from dynamodb.model import Model``."""

from __future__ import annotations

from dynamodb.models.model import Conditional, MapModel, Model, ModelMeta

__all__ = ["Conditional", "MapModel", "Model", "ModelMeta"]
