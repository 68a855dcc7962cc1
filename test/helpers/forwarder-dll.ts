/**
 * A code-free Windows x64 DLL whose exports are forwarders ("bcryptprimitives.ProcessPrng →
 * advapi32.SystemFunction036"). Wine 8 lacks bcryptprimitives.dll, which every Windows since 8
 * has and which Rust-built addons (lz4-napi) import for ProcessPrng; dropping this file into the
 * test wine prefix lets the exe smoke test run those addons. Forwarding is safe here because both
 * functions take (buffer, length) in rcx/rdx and Rust ignores ProcessPrng's always-TRUE result.
 * Layout (PE/COFF spec): DOS header, PE32+ headers, one read-only section with the export directory;
 * an export whose address lies inside the export directory is a forwarder string.
 */
export function forwarderDll(dllName: string, forwards: Readonly<Record<string, string>>): Uint8Array {
  const names = Object.keys(forwards).sort(); // the name table must be sorted for binary search
  const FILE_ALIGN = 0x200;
  const RVA = 0x1000;
  // Export section contents, laid out from RVA 0x1000.
  const dirSize = 40;
  const functionsAt = RVA + dirSize;
  const namesAt = functionsAt + 4 * names.length;
  const ordinalsAt = namesAt + 4 * names.length;
  let stringsAt = ordinalsAt + 2 * names.length;
  const strings: { rva: number; text: string }[] = [];
  const addString = (text: string) => {
    const rva = stringsAt;
    strings.push({ rva, text });
    stringsAt += text.length + 1;
    return rva;
  };
  const dllNameRva = addString(dllName);
  const nameRvas = names.map(addString);
  const forwardRvas = names.map((n) => addString(forwards[n]!));
  const exportSize = stringsAt - RVA;
  const rawSize = Math.ceil(exportSize / FILE_ALIGN) * FILE_ALIGN;

  const image = new Uint8Array(FILE_ALIGN + rawSize);
  const v = new DataView(image.buffer);
  // DOS header: "MZ", e_lfanew.
  v.setUint16(0, 0x5a4d, true);
  v.setUint32(0x3c, 0x40, true);
  // PE signature + COFF header.
  v.setUint32(0x40, 0x00004550, true);
  const coff = 0x44;
  v.setUint16(coff, 0x8664, true); // AMD64
  v.setUint16(coff + 2, 1, true); // one section
  v.setUint16(coff + 16, 240, true); // SizeOfOptionalHeader (PE32+)
  v.setUint16(coff + 18, 0x2022, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
  // Optional header (PE32+).
  const opt = coff + 20;
  v.setUint16(opt, 0x20b, true);
  v.setUint32(opt + 8, rawSize, true); // SizeOfInitializedData
  v.setBigUint64(opt + 24, 0x180000000n, true); // ImageBase
  v.setUint32(opt + 32, 0x1000, true); // SectionAlignment
  v.setUint32(opt + 36, FILE_ALIGN, true); // FileAlignment
  v.setUint16(opt + 40, 6, true); // MajorOperatingSystemVersion
  v.setUint16(opt + 48, 6, true); // MajorSubsystemVersion
  v.setUint32(opt + 56, RVA + Math.ceil(exportSize / 0x1000) * 0x1000, true); // SizeOfImage
  v.setUint32(opt + 60, FILE_ALIGN, true); // SizeOfHeaders
  v.setUint16(opt + 68, 3, true); // Subsystem: console
  v.setBigUint64(opt + 72, 0x100000n, true); // SizeOfStackReserve
  v.setBigUint64(opt + 80, 0x1000n, true); // SizeOfStackCommit
  v.setBigUint64(opt + 88, 0x100000n, true); // SizeOfHeapReserve
  v.setBigUint64(opt + 96, 0x1000n, true); // SizeOfHeapCommit
  v.setUint32(opt + 108, 16, true); // NumberOfRvaAndSizes
  v.setUint32(opt + 112, RVA, true); // export directory
  v.setUint32(opt + 116, exportSize, true);
  // Section header.
  const sec = opt + 240;
  image.set(new TextEncoder().encode('.edata'), sec);
  v.setUint32(sec + 8, exportSize, true); // VirtualSize
  v.setUint32(sec + 12, RVA, true);
  v.setUint32(sec + 16, rawSize, true);
  v.setUint32(sec + 20, FILE_ALIGN, true); // PointerToRawData
  v.setUint32(sec + 36, 0x40000040, true); // INITIALIZED_DATA | MEM_READ
  // Export directory.
  const at = (rva: number) => FILE_ALIGN + rva - RVA;
  const dir = at(RVA);
  v.setUint32(dir + 12, dllNameRva, true);
  v.setUint32(dir + 16, 1, true); // ordinal base
  v.setUint32(dir + 20, names.length, true);
  v.setUint32(dir + 24, names.length, true);
  v.setUint32(dir + 28, functionsAt, true);
  v.setUint32(dir + 32, namesAt, true);
  v.setUint32(dir + 36, ordinalsAt, true);
  names.forEach((_, i) => {
    v.setUint32(at(functionsAt) + 4 * i, forwardRvas[i]!, true);
    v.setUint32(at(namesAt) + 4 * i, nameRvas[i]!, true);
    v.setUint16(at(ordinalsAt) + 2 * i, i, true);
  });
  for (const s of strings) image.set(new TextEncoder().encode(s.text), at(s.rva));
  return image;
}
