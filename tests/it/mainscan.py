"""Every class with a `public static void main(String[])` in a Spark build's jars: what a
worker's DriverWrapper could be asked to run from Spark's own class path.  Reads the class
files (JVMS chapter 4: constant pool, then methods) without loading them, so a whole build's
jars take seconds.  Usage: python3 mainscan.py SPARK_HOME  (prints one class name a line)."""
import struct
import sys
import zipfile
import glob
import os

ACC_PUBLIC, ACC_STATIC = 0x0001, 0x0008
# constant-pool tag -> size of its body in bytes (Utf8, 1, is length-prefixed)
SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}


def has_main(data):
    if data[:4] != b"\xca\xfe\xba\xbe":
        return False
    count, = struct.unpack_from(">H", data, 8)
    pos, utf8, i = 10, {}, 1
    while i < count:
        tag = data[pos]
        if tag == 1:
            n, = struct.unpack_from(">H", data, pos + 1)
            utf8[i] = data[pos + 3:pos + 3 + n]
            pos += 3 + n
        else:
            pos += 1 + SIZES[tag]
        i += 2 if tag in (5, 6) else 1
    pos += 6                                   # access, this, super
    n, = struct.unpack_from(">H", data, pos)
    pos += 2 + 2 * n                           # interfaces

    def members(pos, want):
        n, = struct.unpack_from(">H", data, pos)
        pos += 2
        found = False
        for _ in range(n):
            flags, name, desc, attrs = struct.unpack_from(">HHHH", data, pos)
            pos += 8
            for _ in range(attrs):
                alen, = struct.unpack_from(">I", data, pos + 2)
                pos += 6 + alen
            if want and flags & (ACC_PUBLIC | ACC_STATIC) == ACC_PUBLIC | ACC_STATIC and utf8.get(name) == b"main" \
                    and utf8.get(desc) == b"([Ljava/lang/String;)V":
                found = True
        return pos, found
    pos, _ = members(pos, False)               # fields
    return members(pos, True)[1]


def mains(spark_home):
    found = set()
    for jar in sorted(glob.glob(os.path.join(spark_home, "jars", "*.jar"))):
        with zipfile.ZipFile(jar) as z:
            for name in z.namelist():
                if not name.endswith(".class") or name.startswith("META-INF/") or "module-info" in name:
                    continue
                data = z.read(name)
                if b"([Ljava/lang/String;)V" not in data:
                    continue   # no method with main's descriptor: nothing to parse
                if has_main(data):   # a class file it cannot read fails the scan
                    found.add(name[:-6].replace("/", "."))
    return sorted(found)


if __name__ == "__main__":
    for c in mains(sys.argv[1]):
        print(c)
