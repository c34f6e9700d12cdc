"""Small PKI helpers: a CA, certificates signed by it, and RSA keys, as PEM bytes.

The local control plane needs a CA, a serving certificate and a service-account
signing key; the webhook manages its own CA when cert-manager is not used.  Both
use these functions, which are pure apart from reading the clock.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM-encoded."""

    cert: bytes
    key: bytes


def rsa_key_pem(bits: int = 2048) -> bytes:
    """Generate an RSA private key in PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(private_pem: bytes) -> bytes:
    """Derive the public key PEM, as the API server's ``--service-account-key-file`` wants."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# The key usages a CA certificate asserts; every other flag of x509.KeyUsage is off.
_CA_KEY_USAGES = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})
_KEY_USAGE_FLAGS = (
    "digital_signature content_commitment key_encipherment data_encipherment key_agreement "
    "key_cert_sign crl_sign encipher_only decipher_only"
).split()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _rsa_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Load a private key that :func:`rsa_key_pem` made (or a CA's, which it made too)."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"expected an RSA private key, got {type(key).__name__}")
    return key


def _builder(
    subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey, *, days: int, ca: bool
) -> x509.CertificateBuilder:
    """A certificate for ``key``, valid from five minutes ago (clock skew) for ``days``."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )


def make_ca(common_name: str, *, days: int = 3650) -> KeyPair:
    """Create a self-signed CA."""
    key_pem = rsa_key_pem()
    key = _rsa_key(key_pem)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(**{flag: flag in _CA_KEY_USAGES for flag in _KEY_USAGE_FLAGS})
    cert = (
        _builder(name, name, key, days=days, ca=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def issue(
    ca: KeyPair,
    common_name: str,
    *,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    organizations: Sequence[str] = (),
    client: bool = False,
    days: int = 365,
) -> KeyPair:
    """Issue a serving (or, with ``client``, a client) certificate signed by ``ca``."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert)
    key_pem = rsa_key_pem()
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    usage = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
    )
    builder = _builder(
        x509.Name(attrs), ca_cert.subject, _rsa_key(key_pem), days=days, ca=False
    ).add_extension(usage, critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(_rsa_key(ca.key), hashes.SHA256())
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def not_after(cert_pem: bytes) -> datetime.datetime:
    """Tell when a certificate expires, so a holder can renew it in time."""
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
