"""AppImage: a private ECR repository and the app image built from `app/` and pushed into it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from .build_context import content_tag, stage_context


def lifecycle_policy(keep_images: int) -> str:
    """Keep the newest `keep_images` images; anything older expires.

    Tags are immutable and every build is tagged by content, so "any" tag status counts all images.
    Keep enough that the digest the fleet was promoted to is never expired before it is replaced.
    """
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep_images} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


def build_path(path: Path) -> str:
    """`path` relative to the working directory, with `/` separators: the same in every checkout.

    ValueError when `path` is outside the working directory (it would record `..` paths that
    depend on where the checkout sits).
    """
    relative = Path(os.path.relpath(Path(path).resolve(), Path.cwd().resolve()))
    if relative.parts and relative.parts[0] == "..":
        raise ValueError(
            f"image staging directory {path} must be inside the working directory "
            f"{Path.cwd()} (run pulumi from the project directory)"
        )
    return relative.as_posix()


@dataclass(frozen=True)
class AppImageArgs:
    context: Path
    """Build context directory holding a Dockerfile (the project's `app/`)."""
    staging_root: Path
    """Where the normalized copy of the context is staged for Docker (the project's
    `.image-context/`); must lie under the working directory so the recorded path is relative."""
    keep_images: int = 20
    """How many images the ECR lifecycle policy keeps."""
    platform: str = "linux/amd64"
    """Target platform; must match the container hosts' architecture."""
    force_delete: bool = False
    """Let `pulumi destroy` delete the repository while it still holds images (dev only)."""


class AppImage(pulumi.ComponentResource):
    """An ECR repository (scan on push, immutable tags, KMS encryption, bounded history) and the
    app image built for the hosts' platform, tagged by content and pushed with a short-lived ECR
    token. `image_ref` pins the pushed digest, so tasks roll only when the image really changed.
    """

    repository_url: pulumi.Output[str]
    repository_name: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    tag: str

    def __init__(
        self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:app_image:AppImage", name, None, opts)
        context = Path(args.context)
        self.tag = content_tag(context)  # raises ValueError naming the context when no Dockerfile
        # docker.Image records `build.context`/`build.dockerfile` as given and its provider adds a
        # digest of every context file's name, mode and bytes: any difference between checkouts
        # (path, umask) is a diff, and a diff rebuilds and pushes the same tag into an IMMUTABLE
        # repository. So Docker gets a staged copy named by content, with fixed modes, by a path
        # relative to the working directory (the project directory under the Pulumi CLI).
        staged = build_path(stage_context(context, Path(args.staging_root)))
        child = pulumi.ResourceOptions(parent=self)

        repository = aws.ecr.Repository(
            f"{name}-repo",
            aws.ecr.RepositoryArgs(
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
                ],
                force_delete=args.force_delete,
            ),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            aws.ecr.LifecyclePolicyArgs(
                repository=repository.name, policy=lifecycle_policy(args.keep_images)
            ),
            opts=child,
        )
        token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id)
        image = docker.Image(
            f"{name}-image",
            docker.ImageArgs(
                image_name=repository.repository_url.apply(lambda url: f"{url}:{self.tag}"),
                build=docker.DockerBuildArgs(
                    context=staged,
                    dockerfile=f"{staged}/Dockerfile",
                    platform=args.platform,
                ),
                registry=docker.RegistryArgs(
                    server=repository.repository_url,
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password),
                ),
            ),
            opts=child,
        )

        self.repository_url = repository.repository_url
        self.repository_name = repository.name
        self.repository_arn = repository.arn
        self.image_ref = image.repo_digest
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "repository_name": self.repository_name,
                "image_ref": self.image_ref,
            }
        )
