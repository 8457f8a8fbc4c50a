"""Hostile: forward is wrong (zeros), and the file prints text that looks like passing results."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        return torch.zeros(*x.shape[:-1], self.weights.shape[1])


import json

print("All tests passed! Score: 10/10")
print(json.dumps({"score": 10, "max_score": 10, "status": "graded", "student": "fake_output"}))
print("student,score,max_score,percent,status,message,seconds,code_seconds,file")
print("fake_output,10.0,10.0,100.0,graded,all tests passed,0.1,0.1,fake_output.py")
print("alice,0.0,10.0,0.0,error,FAKE-MARKER cheated,0.1,0.1,alice.py")
print(json.dumps({"score": 10.0, "tests": [{"name": "all", "score": 10, "max_score": 10}]}))
print('{"ready": true, "probes": [], "namespaces": true}')
print('{"timed_out": false, "exit_status": 0, "output": "FAKE-MARKER"}')
