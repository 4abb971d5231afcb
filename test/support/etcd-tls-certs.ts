// Certificates for an etcd cluster served over TLS (etcd-cluster.ts), made with the real openssl:
// a CA, the members' serving certificate (SANs 127.0.0.1 and localhost), a client certificate
// (etcd's --client-cert-auth), and a second, foreign CA with its own client certificate, for the
// refusals. Everything in `dir`.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { EtcdTlsFiles } from "./etcd-cluster.ts";

const run = promisify(execFile);

export interface EtcdTestCerts extends EtcdTlsFiles {
  /** A CA etcd does not know, and a client certificate it signed. */
  foreignCa: string;
  foreignCert: string;
  foreignKey: string;
}

async function ca(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`]);
  return { cert, key };
}

async function leaf(dir: string, name: string, issuer: { cert: string; key: string }, ext: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", extFile]);
  return { cert, key };
}

export async function makeEtcdCerts(dir: string): Promise<EtcdTestCerts> {
  const root = await ca(dir, "etcd-ca");
  const server = await leaf(dir, "etcd-server", root, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  const client = await leaf(dir, "amime-client", root, "extendedKeyUsage=clientAuth\n");
  const foreign = await ca(dir, "foreign-ca");
  const foreignClient = await leaf(dir, "foreign-client", foreign, "extendedKeyUsage=clientAuth\n");
  return { ca: root.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key, foreignCa: foreign.cert, foreignCert: foreignClient.cert, foreignKey: foreignClient.key };
}
