"""AppImage: a private ECR repository and the app image built from `app/` and pushed into it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from .build_context import content_tag, stage_context
from .image_retention import retention_policy


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
    """How many of the newest images the ECR lifecycle policy keeps (besides pinned ones)."""
    platform: str = "linux/amd64"
    """Target platform; must match the container hosts' architecture."""
    force_delete: bool = False
    """Let `pulumi destroy` delete the repository while it still holds images (dev only)."""


class AppImage(pulumi.ComponentResource):
    """An ECR repository (scan on push, immutable tags, KMS encryption, bounded history) and the
    app image built for the hosts' platform, tagged by content and pushed with a short-lived ECR
    token. `image_ref` pins the pushed digest, so tasks roll only when the image really changed.
    `retain` adds the lifecycle policy once the release pins are known: it keeps the newest
    `keep_images` images and every image a pin runs (components.image_retention).
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

        self._name = name
        self._keep_images = args.keep_images
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

    def retain(self, pinned_tags: Sequence[pulumi.Input[str]]) -> aws.ecr.LifecyclePolicy:
        """The repository's lifecycle policy, keeping every image tagged with one of
        ``pinned_tags`` (the release pins' versions) besides the newest ``keep_images``. A child of
        this component under its original name, so existing stacks keep the same resource."""
        document = pulumi.Output.all(*pinned_tags).apply(
            lambda tags: retention_policy(self._keep_images, [str(t) for t in tags])
        )
        return aws.ecr.LifecyclePolicy(
            f"{self._name}-lifecycle",
            aws.ecr.LifecyclePolicyArgs(repository=self.repository_name, policy=document),
            opts=pulumi.ResourceOptions(parent=self),
        )
