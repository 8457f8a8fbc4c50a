import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super(MyLinear, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weights = nn.Parameter(torch.Tensor(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.Tensor(out_features))
        else:
            self.bias = None
        nn.init.normal_(self.weights.data)
        if self.bias is not None:
            nn.init.zeros_(self.bias.data)

    def forward(self, input):
        output = input.mm(self.weights.data)
        if self.bias is not None:
            output += self.bias.data
        return output


model = MyLinear(10, 5)
print(model(torch.randn(3, 10)).size())
