"""Decode Canal protobuf MQ messages with canal-python's generated classes (an implementation
independent of Sluice's), printing every field of every entry as JSON.

Input: one base64 payload per line on stdin. Output: one JSON object per line, in input order:
{"packet": {...Packet fields but body}, "batch_id": N, "entries": [{"entry": {...}, "row_change": {...}}]}
Fields in a oneof appear only when set, so presence is checked too.
"""
import base64
import json
import sys

from canal.protocol import CanalProtocol_pb2, EntryProtocol_pb2
from google.protobuf.json_format import MessageToDict


def as_dict(message):
    return MessageToDict(message, including_default_value_fields=True, preserving_proto_field_name=True)


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    packet = CanalProtocol_pb2.Packet()
    packet.ParseFromString(base64.b64decode(line))
    messages = CanalProtocol_pb2.Messages()
    messages.ParseFromString(packet.body)
    entries = []
    for raw in messages.messages:
        entry = EntryProtocol_pb2.Entry()
        entry.ParseFromString(raw)
        change = EntryProtocol_pb2.RowChange()
        change.ParseFromString(entry.storeValue)
        entry_fields = as_dict(entry)
        entry_fields.pop("storeValue", None)
        entries.append({"entry": entry_fields, "row_change": as_dict(change)})
    packet_fields = as_dict(packet)
    packet_fields.pop("body", None)
    print(json.dumps({"packet": packet_fields, "batch_id": int(messages.batch_id), "entries": entries}))
