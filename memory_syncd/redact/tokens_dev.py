"""Self-identifying tokens of code hosting, CI/CD, developer tooling and package registries.

GitHub, GitLab, npm, PyPI, RubyGems, Pulumi, Postman, Atlassian, Linear, Sentry, Grafana, HashiCorp Vault and
Terraform Cloud, Doppler. Formats as listed in references/SECRET_PATTERNS.md.
GitHub tokens carry a CRC32 checksum; it is not verified on purpose: a fake of the right shape costs a few
redacted characters, a real token with a checksum we got wrong would be a leak.
"""

from __future__ import annotations

from memory_syncd.redact.kinds import Family, Fast, TokenRule, rules, token

_CODE = Family.CODE
_CLOUD = Family.CLOUD
_END62 = r"(?![A-Za-z0-9])"
_END64 = r"(?![A-Za-z0-9_-])"

RULES: tuple[TokenRule, ...] = rules(
    token("GITHUB-PAT", "GitHub classic personal access token", _CODE, r"ghp_[A-Za-z0-9]{36,255}" + _END62,
          "ghp_<B62:36>"),
    token("GITHUB-OAUTH-TOKEN", "GitHub OAuth access token", _CODE, r"gho_[A-Za-z0-9]{36,255}" + _END62,
          "gho_<B62:36>"),
    token("GITHUB-APP-TOKEN", "GitHub App user-to-server / server-to-server token", _CODE,
          r"gh[us]_[A-Za-z0-9]{36,255}" + _END62, "ghs_<B62:36>", anchors=("ghu_", "ghs_")),
    token("GITHUB-REFRESH-TOKEN", "GitHub refresh token", _CODE, r"ghr_[A-Za-z0-9]{36,255}" + _END62,
          "ghr_<B62:36>"),
    token("GITHUB-FINE-GRAINED-PAT", "GitHub fine-grained personal access token", _CODE,
          r"github_pat_[A-Za-z0-9_]{70,255}" + _END62, "github_pat_<B62:22>_<B62:59>"),
    token("GITLAB-PAT", "GitLab personal / project / group access token", _CODE,
          r"glpat-[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9]{2}\.[A-Za-z0-9]{7,9})?" + _END64, "glpat-<B64U:20>"),
    token("GITLAB-RUNNER-TOKEN", "GitLab runner authentication token", _CODE,
          r"glrt-[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9]{2}\.[A-Za-z0-9]{7,9})?" + _END64, "glrt-<B64U:20>"),
    token("GITLAB-DEPLOY-TOKEN", "GitLab deploy token", _CODE, r"gldt-[A-Za-z0-9_-]{20,300}" + _END64,
          "gldt-<B64U:20>"),
    token("GITLAB-FEED-TOKEN", "GitLab feed token", _CODE, r"glft-[A-Za-z0-9_-]{20,300}" + _END64,
          "glft-<B64U:20>"),
    token("GITLAB-SCIM-TOKEN", "GitLab SCIM OAuth token", _CODE, r"glsoat-[A-Za-z0-9_-]{20,300}" + _END64,
          "glsoat-<B64U:20>"),
    token("GITLAB-FEATURE-FLAG-TOKEN", "GitLab feature-flag client token", _CODE,
          r"glffct-[A-Za-z0-9_-]{20,300}" + _END64, "glffct-<B64U:20>"),
    token("GITLAB-PIPELINE-TRIGGER-TOKEN", "GitLab pipeline trigger token", _CODE,
          r"glptt-[a-f0-9]{40}" + _END62, "glptt-<HEX:40>"),
    token("NPM-TOKEN", "npm access token", _CODE, r"npm_[A-Za-z0-9]{36}" + _END62, "npm_<B62:36>"),
    token("PYPI-TOKEN", "PyPI / TestPyPI upload token", _CODE,
          r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}" + _END64,
          "pypi-AgEIcHlwaS5vcmc<B64U:150>"),
    token("RUBYGEMS-KEY", "RubyGems API key", _CODE, r"rubygems_[a-f0-9]{48}" + _END62, "rubygems_<HEX:48>"),
    token("PULUMI-TOKEN", "Pulumi access token", _CODE, r"pul-[a-f0-9]{40}" + _END62, "pul-<HEX:40>"),
    token("POSTMAN-API-KEY", "Postman API key", _CODE, r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}" + _END62,
          "PMAK-<HEX:24>-<HEX:34>"),
    token("ATLASSIAN-API-TOKEN", "Atlassian (Jira, Confluence) API token", _CODE,
          r"AT(?:ATT|CTT)3[A-Za-z0-9_=-]{100,300}" + _END64, "ATATT3<B64U:186>",
          anchors=("ATATT3", "ATCTT3")),
    token("LINEAR-API-KEY", "Linear API key", _CODE, r"lin_api_[A-Za-z0-9]{40}" + _END62, "lin_api_<B62:40>"),
    token("SENTRY-USER-TOKEN", "Sentry user auth token", _CODE, r"sntryu_[a-f0-9]{64}" + _END62,
          "sntryu_<HEX:64>"),
    token("SENTRY-ORG-TOKEN", "Sentry organisation auth token", _CODE,
          r"sntrys_eyJ[A-Za-z0-9+/=_-]{30,}", "sntrys_eyJpYXQiO<B64:80>_<B64:43>"),
    token("GRAFANA-SERVICE-ACCOUNT-TOKEN", "Grafana service-account token", _CODE,
          r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" + _END62, "glsa_<B62:32>_<HEX:8>"),
    token("GRAFANA-CLOUD-TOKEN", "Grafana Cloud access policy token", _CODE,
          r"glc_[A-Za-z0-9+/]{32,400}={0,2}", "glc_<B64:60>"),
    token("VAULT-TOKEN", "HashiCorp Vault service / batch / recovery token", _CLOUD,
          r"hv[sbr]\.[A-Za-z0-9_-]{24,300}" + _END64, "hvs.<B64U:90>"),
    token("TERRAFORM-CLOUD-TOKEN", "Terraform Cloud / Enterprise API token", _CLOUD,
          r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}" + _END64, "<B62:14>.atlasv1.<B64U:67>",
          fast=(Fast(r"\.atlasv1\.(?<=[A-Za-z0-9]{14}\.atlasv1\.)[A-Za-z0-9_=-]{60,70}" + _END64,
                     back="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", back_max=14),)),
    token("DOPPLER-TOKEN", "Doppler personal / CLI / service / SCIM / audit token", _CLOUD,
          r"dp\.(?:pt|ct|st|sa|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}" + _END62,
          "dp.pt.<B62:43>"),
)
