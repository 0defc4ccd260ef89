"""``dynamodb.infra``: the models' tables as CloudFormation or Terraform templates.

``render_cloudformation(cloudformation([Order, Customer]), "yaml")``; see
:mod:`dynamodb.models.infra`. Not imported by ``import dynamodb``.
"""

from __future__ import annotations

from dynamodb.models.infra import *  # noqa: F403 - this module is their public path
from dynamodb.models.infra import __all__ as __all__
