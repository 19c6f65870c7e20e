"""What the archive shows: every rendering of archived HTML leaves through here, sanitized."""

from archiver.render.sanitize import iframe_hosts_from_env, sanitize_html

__all__ = ["iframe_hosts_from_env", "sanitize_html"]
