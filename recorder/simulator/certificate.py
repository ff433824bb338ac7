"""The simulator's self-signed TLS certificate, made fresh for each server start.

It names every platform host the simulator answers for. It is trusted only where a caller
pins its fingerprint (demo and test mode); production never sees it.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_DAYS = 30


@dataclass(frozen=True)
class SimulatorCertificate:
    cert_pem: str
    key_pem: str
    cert_der: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, lowercase hex (as QSslCertificate.digest gives it)."""
        return hashlib.sha256(self.cert_der).hexdigest()


    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        # load_cert_chain reads files only; the key lives on disk for the blink of this call.
        fd, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(self.key_pem + self.cert_pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return context


def make_certificate(dns_names: list[str], ip_addresses: list[str]) -> SimulatorCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Meeting Buddy simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Meeting Buddy meeting simulator"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names: list[x509.GeneralName] = [x509.DNSName(host) for host in dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SimulatorCertificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
        cert_der=cert.public_bytes(serialization.Encoding.DER),
    )
