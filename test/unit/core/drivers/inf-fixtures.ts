/** The real INF/INX files in test/fixtures/inf (sources in test/fixtures/SOURCES.md), read as bytes. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../../fixtures/inf/', import.meta.url));

export const INF_FIXTURES = readdirSync(DIR).filter((f) => /\.in[fx]$/i.test(f)).sort();

export function infBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(DIR + name));
}

export const VIOSTOR = 'kvm-guest-drivers-windows__viostor__viostor.inx';
export const VIOSCSI = 'kvm-guest-drivers-windows__vioscsi__vioscsi.inx';
export const NETKVM = 'kvm-guest-drivers-windows__NetKVM__netkvm.inf';
export const BALLOON = 'kvm-guest-drivers-windows__Balloon__sys__balloon.inx';
export const NETVADAPTER = 'Windows-driver-samples__network__netadaptercx__netvadapter__km__netvadapter.inf';
export const TOASTPKG = 'Windows-driver-samples__general__toaster__toastpkg__inf__toastpkg.inf';
export const NETVMINI = 'Windows-driver-samples__network__ndis__netvmini__6x__680__netvmini680.inf';
export const SDHC = 'Windows-driver-samples__sd__miniport__sdhc__sdhc.inx';
export const LSI_U3 = 'Windows-driver-samples__storage__miniports__lsi_u3__src__lsi_u3.inf';
export const SAMPLEDISPLAY = 'Windows-driver-samples__video__KMDOD__Sample__sampledisplay.inf';
export const MINISPY = 'Windows-driver-samples__filesys__miniFilter__minispy__minispy.inf';
