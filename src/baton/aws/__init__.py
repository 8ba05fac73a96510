"""Everything baton knows about AWS, in one place: ARNs, regions, clients and SigV4 signing.

boto3 is slow to import, so only `arns` and `regions` are imported eagerly; clients and signing
load it on first use.
"""
