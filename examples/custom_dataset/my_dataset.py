# Assignment: custom_dataset
# Alice - a Dataset of sentences and their classes, as in the "custom Dataset" tutorial
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset


class MyDataset(Dataset):
    def __init__(self, text, labels):
        self.labels = labels
        self.text = text

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        label = self.labels[idx]
        text = self.text[idx]
        sample = {"Text": text, "Class": label}
        return sample


def make_loader(dataset, batch_size, shuffle):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def manual_batches(x, y, bs):
    n = len(x)
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        yield x[start_i:end_i], y[start_i:end_i]


text = ["Happy", "Amazing", "Sad", "Unhapy", "Glum"]
labels = ["Positive", "Positive", "Negative", "Negative", "Negative"]
TD = MyDataset(text, labels)
print(len(TD), TD[0])

for i, batch in enumerate(make_loader(TD, 2, True)):
    print(i, batch)

x = torch.randn(10, 3)
y = torch.arange(10)
for (xb, yb), (xd, yd) in zip(manual_batches(x, y, 4), DataLoader(TensorDataset(x, y), batch_size=4)):
    assert torch.equal(xb, xd) and torch.equal(yb, yd)
print("manual batches match the DataLoader")
