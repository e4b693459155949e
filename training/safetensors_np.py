"""Minimal safetensors reader/writer in numpy (the format is a JSON header + raw bytes)."""
import json
import os
import struct
import numpy as np

_DTYPES = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'F64': np.float64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        arr = np.frombuffer(data[base + start:base + end], dtype=np.dtype(_DTYPES[info['dtype']]).newbyteorder('<'))
        out[name] = arr.reshape(info['shape']).copy()
    return out


def write_safetensors(path, tensors, metadata=None):
    """F32 tensors sorted by name; header padded with spaces to 8 bytes; tmp + rename."""
    names = sorted(tensors)
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    offset = 0
    blobs = []
    for name in names:
        arr = np.ascontiguousarray(tensors[name], dtype='<f4')
        blob = arr.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
